import { randomUUID } from 'node:crypto';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { dlqTopic, Topics, type DocumentView } from '@papka/contracts';
import {
  apiClient,
  baseUrl,
  createTestDatabase,
  dadataEnv,
  dropDatabase,
  eventually,
  infraEnv,
  readTopic,
  s3Env,
  serviceEnv,
  startFakeDadata,
  startService,
  testToken,
  uploadFile as upload,
  type FakeDadata,
  type RunningService,
} from '@papka/testing';
import { bootstrap } from '../src/bootstrap';
import { BUILTIN_TEMPLATES } from '../src/templates/builtin/builtin';
import { renderRetryPolicy } from '../src/rendering/rendering.events';
import { download as downloadAs, seedInvoiceParties } from './parties';

/**
 * A TCP proxy in front of the shared MinIO that this documents instance alone talks to, so an
 * outage can be staged without stopping the MinIO other tests use. `down()` resets every open
 * connection and every new one at once (as a storage that is gone does); `up()` forwards again.
 */
interface StorageProxy {
  url: string;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

async function startStorageProxy(target: string): Promise<StorageProxy> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  let refusing = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server: Server = net.createServer((client) => {
    track(client);
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(Number(to.port || 80), to.hostname);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    down() {
      refusing = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    up() {
      refusing = false;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The whole retry budget of a render request (every back-off between its attempts). */
const RETRY_BUDGET_MS = Array.from({ length: renderRetryPolicy.maxAttempts - 1 }, (_, i) => renderRetryPolicy.backoffMs(i + 1)).reduce((a, b) => a + b, 0);

describe('documents through an object-storage outage longer than the render retry budget (PostgreSQL + Kafka + MinIO + Chromium)', () => {
  jest.setTimeout(240_000);
  let dadata: FakeDadata;
  let proxy: StorageProxy;
  let contractorsDb: string;
  let documentsDb: string;
  let contractors: RunningService;
  let documents: INestApplication;
  let gateway: RunningService;
  let token: string;
  let api: ReturnType<typeof apiClient>;
  let contractorId: string;

  const docOf = async (id: string) => (await api<DocumentView[]>('GET', '/v2/docs/documents?size=200')).body.find((d) => d.uuid === id);
  const download = (id: string) => downloadAs(gateway.url, token, id);

  beforeAll(async () => {
    dadata = await startFakeDadata();
    proxy = await startStorageProxy(s3Env().S3_ENDPOINT!);
    contractorsDb = await createTestDatabase('outage_contractors');
    documentsDb = await createTestDatabase('outage_documents');
    contractors = await startService('contractors', serviceEnv({ DATABASE_URL: contractorsDb, ...dadataEnv(dadata) }));
    documents = await bootstrap({
      ...serviceEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: documentsDb,
      ...s3Env(),
      S3_ENDPOINT: proxy.url,
      CHROMIUM_PATH: infraEnv().CHROMIUM_PATH,
      RENDER_PAGES: '1',
      DOWNLOAD_WAIT_MS: '500',
    });
    gateway = await startService('gateway', {
      ...serviceEnv(),
      CONTRACTORS_URL: contractors.url,
      DOCUMENTS_URL: baseUrl(documents),
      RATE_LIMIT_POINTS: '10000',
    });
    token = await testToken('outage-acc');
    api = apiClient(gateway.url, token);
    contractorId = await seedInvoiceParties(api, documents, 'outage-acc', { name: 'ООО Хранилище', address: 'Москва' });
  });

  afterAll(async () => {
    proxy?.up();
    await gateway?.stop();
    await documents?.close();
    await contractors?.stop();
    await dadata?.close();
    await proxy?.close();
    for (const db of [contractorsDb, documentsDb]) if (db) await dropDatabase(db);
  });

  // A case that fails during its outage must not leave the storage down for the next one.
  afterEach(() => proxy?.up());

  it('renders a built-in invoice and an uploaded-template document made while the storage was down for longer than every retry', async () => {
    const up = await upload(gateway.url, token, 'outage.html', '<h1>Письмо для {{contractor.name}}</h1><p>{{topic}}</p>', 'text/html');
    expect(up.status).toBe(200);

    proxy.down();
    const invoice = BUILTIN_TEMPLATES.find((t) => t.kind === 'invoice')!;
    const a = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
      type: 'Счёт',
      template: invoice.uuid,
      name: 'Счёт при сбое хранилища',
      contractor: contractorId,
      masks: { number: '21', date: '2026-06-05', vatRate: '22', vatMode: 'on-top', lines: [{ title: 'Услуга', measure: 'усл.', quantity: 1, price: 100_000 }] },
    });
    const b = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
      type: 'Письмо',
      filename: up.body.filename,
      name: 'Письмо при сбое хранилища',
      contractor: contractorId,
      masks: { topic: 'Сверка' },
    });
    expect([a.status, b.status]).toEqual([201, 201]);
    const [invoiceId, uploadedId] = [a.body.uuid, b.body.uuid];

    // Outlast the whole retry budget (1 + 5 + 15 s before the last attempt): the requests must
    // not have spent it, so neither document is failed (or dead-lettered) meanwhile.
    const outageEnds = Date.now() + RETRY_BUDGET_MS + 10_000;
    while (Date.now() < outageEnds) {
      for (const id of [invoiceId, uploadedId]) expect((await docOf(id))?.renderState).toBe('pending');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    expect((await download(invoiceId)).status).toBe(409);

    proxy.up();
    for (const id of [invoiceId, uploadedId]) {
      await eventually(async () => (await docOf(id))?.renderState !== 'pending', 90_000, 500);
      expect(await docOf(id)).toMatchObject({ renderState: 'rendered', renderError: null });
      const file = await download(id);
      expect(file.status).toBe(200);
      expect(file.body.subarray(0, 5).toString()).toBe('%PDF-');
    }
    // The DLQ is for records that can never succeed: an outage sent nothing there.
    const dead = await readTopic(dlqTopic(Topics.renderRequests), (ms) => ms.some((m) => m.value.includes(invoiceId) || m.value.includes(uploadedId)), 5_000);
    expect(dead.filter((m) => m.value.includes(invoiceId) || m.value.includes(uploadedId))).toEqual([]);
  });

  it('renders a failed document again on POST /v2/docs/documents/:id/render, and 409s one that has not failed', async () => {
    // Its own document, rendered with the storage up (the outage case above may not have run).
    const up = await upload(gateway.url, token, 'rerender.html', '<h1>Письмо для {{contractor.name}}</h1><p>{{topic}}</p>', 'text/html');
    expect(up.status).toBe(200);
    const made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
      type: 'Письмо',
      filename: up.body.filename,
      name: 'Письмо для повторного рендера',
      contractor: contractorId,
      masks: { topic: 'Повтор' },
    });
    expect(made.status).toBe(201);
    const uploadedId = made.body.uuid;
    await eventually(async () => (await docOf(uploadedId))?.renderState !== 'pending', 60_000, 300);
    expect(await docOf(uploadedId)).toMatchObject({ renderState: 'rendered' });
    const again = await api<{ code: string }>('POST', `/v2/docs/documents/${uploadedId}/render`);
    expect(again).toMatchObject({ status: 409, body: { code: 'DOCUMENT_NOT_FAILED' } });
    expect((await api('POST', `/v2/docs/documents/${randomUUID()}/render`)).status).toBe(404);
    const other = apiClient(gateway.url, await testToken('outage-other'));
    expect((await other('POST', `/v2/docs/documents/${uploadedId}/render`)).status).toBe(404);

    // A document an earlier outage left failed (as this service did before it waited for storage).
    await documents
      .get(DataSource)
      .query(`UPDATE document SET render_state = 'failed', render_error = 'object storage unavailable', storage_key = NULL, filename = NULL WHERE id = $1`, [uploadedId]);
    expect(await docOf(uploadedId)).toMatchObject({ renderState: 'failed' });
    expect((await download(uploadedId)).status).toBe(409);

    const queued = await api('POST', `/v2/docs/documents/${uploadedId}/render`);
    expect(queued).toMatchObject({ status: 202, body: { status: 'OK' } });
    await eventually(async () => (await docOf(uploadedId))?.renderState === 'rendered', 60_000, 300);
    const file = await download(uploadedId);
    expect(file.status).toBe(200);
    expect(file.body.subarray(0, 5).toString()).toBe('%PDF-');
  });
});
