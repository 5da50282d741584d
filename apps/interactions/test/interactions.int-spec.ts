import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { request } from 'undici';
import yauzl from 'yauzl';
import { Topics, type InteractionView } from '@papka/contracts';
import { Buckets } from '@papka/platform';
import { MinioStorage } from '@papka/storage';
import {
  apiClient,
  createTestDatabase,
  dadataEnv,
  dropDatabase,
  eventually,
  FIXTURE_ACCOUNT_NUMBER as ACCOUNT_NUMBER,
  FIXTURE_BIK as BIK,
  FIXTURE_INN as INN,
  infra,
  infraEnv,
  readTopic,
  REPO_ROOT,
  s3Env,
  serviceEnv,
  startFakeDadata,
  startService,
  testToken,
  uploadFile,
  type FakeDadata,
  type RunningService,
} from '@papka/testing';

type Api = ReturnType<typeof apiClient>;
const run = promisify(execFile);

const OTHER_NUMBER = '40702810600000000001';

/** The uploaded file's name; here an upload that fails is a broken set-up, not a finding. */
async function upload(base: string, token: string, name: string, content: Buffer | string, type?: string) {
  const { status, body } = await uploadFile(base, token, name, content, type);
  if (status !== 200) throw new Error(`upload failed: ${status} ${JSON.stringify(body)}`);
  return body.filename;
}

/** A file the upload sniffer takes for a PDF: the magic, then `size` incompressible bytes. */
const fakePdf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(size)]);

interface ZipEntryRead {
  name: string;
  size: number;
  head: Buffer;
  content?: Buffer;
}

/** Reads a ZIP file's central directory and every entry's data (yauzl checks sizes as it goes). */
function readZip(file: string, keepContentBelow = 1024 * 1024): Promise<ZipEntryRead[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const entries: ZipEntryRead[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          let size = 0;
          let head = Buffer.alloc(0);
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (head.length < 16) head = Buffer.concat([head, c]).subarray(0, 16);
            if (entry.uncompressedSize <= keepContentBelow) chunks.push(c);
          });
          stream.on('error', reject);
          stream.on('end', () => {
            entries.push({ name: entry.fileName, size, head, content: chunks.length ? Buffer.concat(chunks) : undefined });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** VmRSS of a process in bytes. */
const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

describe('interactions through the gateway (PostgreSQL + Kafka + MinIO + Chromium)', () => {
  const infraSettings = infraEnv();
  let dadata: FakeDadata;
  const dbs: string[] = [];
  let interactionsDb: string;
  let contractorsDb: string;
  let documentsDb: string;
  let contractors: RunningService;
  let documents: RunningService;
  let interactions: RunningService;
  let gateway: RunningService;
  let account: string;
  let otherAccount: string;
  let token: string;
  let otherToken: string;
  let api: Api;
  let otherApi: Api;
  let contractorId: string;
  let bankId: string;
  let secondContractorId: string;
  let secondBankId: string;
  let otherContractorId: string;
  let letterTemplate: string;

  const startInteractions = () => startService('interactions', serviceEnv({ ...s3Env(), DATABASE_URL: interactionsDb, REPLICA_WAIT_MS: '300' }));

  const sql = async <T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> => {
    const client = new Client({ connectionString: interactionsDb });
    await client.connect();
    try {
      return (await client.query(query, params)).rows as T[];
    } finally {
      await client.end();
    }
  };

  const makeContractor = async (a: Api, name: string, inn: string | undefined, number: string) => {
    const created = await a<{ uuid: string }>('POST', '/v2/docs/contractors', { type: inn ? 1 : 3, inn, name, address: 'Московская обл, г Щёлково' });
    expect(created.status).toBe(201);
    const bank = await a('POST', `/v2/docs/contractors/${created.body.uuid}/bank`, { bik: BIK, number });
    expect(bank.status).toBeLessThan(300);
    const full = await a<{ bankInfo: { id: string }[] }>('GET', `/v2/docs/contractors/${created.body.uuid}`);
    return { id: created.body.uuid, bankId: full.body.bankInfo[0]!.id };
  };

  /** Waits until the interactions service has the contractor's bank accounts in its read model. */
  const replicated = (id: string, banks = 1) =>
    eventually(async () => {
      const rows = await sql<{ n: number }>(`SELECT jsonb_array_length(bank_accounts) AS n FROM contractor_replica WHERE id = $1`, [id]);
      return rows[0] && rows[0].n >= banks;
    }, 30_000);

  const makeDocument = async (a: Api, contractor: string, name: string) => {
    const made = await a<{ uuid: string }>('POST', '/v2/docs/constructor', {
      type: 'Письмо',
      template: letterTemplate,
      name,
      contractor,
      masks: { number: '15', subject: 'Сверка', body: `Текст письма «${name}»` },
    });
    expect(made.status).toBe(201);
    return made.body.uuid;
  };

  const createInteraction = async (name = 'Разработка сайта', sum: unknown = 50000, contractor = contractorId) => {
    const res = await api<{ status: string; uuid: string }>('POST', '/v2/docs/interactions', { contractor, name, sum });
    expect(res).toMatchObject({ status: 201, body: { status: 'OK', uuid: expect.any(String) } });
    return res.body.uuid;
  };

  const getOne = async (id: string, a: Api = api) => {
    const res = await a<InteractionView>('GET', `/v2/docs/interactions/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    dadata = await startFakeDadata();
    contractorsDb = await createTestDatabase('int_contractors');
    documentsDb = await createTestDatabase('int_documents');
    interactionsDb = await createTestDatabase('interactions');
    dbs.push(contractorsDb, documentsDb, interactionsDb);
    const started = await Promise.allSettled([
      startService('contractors', serviceEnv({ DATABASE_URL: contractorsDb, ...dadataEnv(dadata) })),
      startService('documents', {
        ...serviceEnv(),
        ...s3Env(),
        DATABASE_URL: documentsDb,
        CHROMIUM_PATH: infraSettings.CHROMIUM_PATH,
        RENDER_PAGES: '1',
        UPLOAD_LIMIT_BYTES: String(64 * 1024 * 1024),
      }),
      startInteractions(),
    ]);
    // One that failed to start must not leave the others running after the suite.
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      for (const r of started) if (r.status === 'fulfilled') await r.value.stop();
      throw failed.reason;
    }
    [contractors, documents, interactions] = started.map((r) => (r as PromiseFulfilledResult<RunningService>).value) as [RunningService, RunningService, RunningService];
    gateway = await startService('gateway', {
      ...serviceEnv(),
      CONTRACTORS_URL: contractors.url,
      DOCUMENTS_URL: documents.url,
      INTERACTIONS_URL: interactions.url,
      RATE_LIMIT_POINTS: '100000',
      UPLOAD_LIMIT_BYTES: String(64 * 1024 * 1024),
    });
    // Fresh accounts per run: Kafka keeps earlier runs' events, which a replay reads again.
    account = `int-acc-${randomBytes(4).toString('hex')}`;
    otherAccount = `int-other-${randomBytes(4).toString('hex')}`;
    token = await testToken(account);
    otherToken = await testToken(otherAccount);
    api = apiClient(gateway.url, token);
    otherApi = apiClient(gateway.url, otherToken);

    ({ id: contractorId, bankId } = await makeContractor(api, 'ИП Артиков Тимур Дилшодович', INN, ACCOUNT_NUMBER));
    ({ id: secondContractorId, bankId: secondBankId } = await makeContractor(api, 'ООО Второй', undefined, OTHER_NUMBER));
    ({ id: otherContractorId } = await makeContractor(otherApi, 'ООО Чужой', undefined, OTHER_NUMBER));
    const templates = await api<{ uuid: string; builtin: boolean; masks: { id: string }[] }[]>('GET', '/v2/docs/templates');
    letterTemplate = templates.body.find((t) => t.builtin && t.masks.some((m) => m.id === 'body'))!.uuid;
    for (const id of [contractorId, secondContractorId, otherContractorId]) await replicated(id);
  }, 180_000);

  afterAll(async () => {
    for (const s of [gateway, interactions, documents, contractors]) await s?.stop();
    await dadata?.close();
    for (const db of dbs) await dropDatabase(db);
  });

  it('answers every reference endpoint in the reference shapes', async () => {
    const id = await createInteraction();
    const list = await api<InteractionView[]>('GET', '/v2/docs/interactions');
    expect(list.status).toBe(200);
    const item = list.body.find((i) => i.uuid === id)!;
    expect(item).toMatchObject({
      uuid: id,
      contractor: { name: 'ИП Артиков Тимур Дилшодович', inn: INN, address: 'Московская обл, г Щёлково' },
      name: 'Разработка сайта',
      description: '',
      documents: [],
      files: [],
      payments: [],
      sum: 50000,
      status: 1,
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });

    const ok = { status: 'OK' };
    expect((await api('POST', `/v2/docs/interactions/${id}/desc`, { description: '<p>Описание</p>' })).body).toEqual(ok);
    expect((await api('POST', `/v2/docs/interactions/${id}/status`, { status: 2 })).body).toEqual(ok);
    const paid = await api<{ status: string; uuid: string }>('POST', `/v2/docs/interactions/${id}/payments`, {
      type: 'income',
      name: 'Предоплата по счёту № 15',
      sum: 20000.5,
      date: '2025-09-22',
      contractorBank: bankId,
    });
    expect(paid.body).toEqual({ status: 'OK', uuid: expect.any(String) });
    const docId = await makeDocument(api, contractorId, 'Письмо о сверке');
    expect((await api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: docId })).body).toEqual(ok);
    const filename = await upload(gateway.url, token, 'скан.pdf', fakePdf(1000), 'application/pdf');
    const file = await api<{ status: string; uuid: string }>('POST', `/v2/docs/interactions/${id}/files`, { filename, name: 'Скан договора' });
    expect(file.body).toEqual({ status: 'OK', uuid: expect.any(String) });

    const one = await getOne(id);
    expect(one).toMatchObject({
      description: '<p>Описание</p>',
      status: 2,
      sum: 50000,
      paidSum: 20000.5,
      balance: 29999.5,
      payments: [{ uuid: paid.body.uuid, type: 'income', name: 'Предоплата по счёту № 15', sum: 20000.5, date: '2025-09-22', contractorBank: bankId }],
      documents: [
        {
          id: docId,
          information: { name: 'Письмо о сверке', masks: expect.any(String), status: 1, sum: 0, createdAt: expect.any(String) },
        },
      ],
      files: [{ uuid: file.body.uuid, filename, name: 'Скан договора', contentType: 'application/pdf', size: 1009 }],
    });
    // The reference shows masks as a JSON string.
    expect(JSON.parse(one.documents[0]!.information.masks)).toMatchObject({ number: '15', subject: 'Сверка' });

    const forContractor = await api<InteractionView[]>('GET', `/v2/docs/contractors/${contractorId}/interactions`);
    expect(forContractor.status).toBe(200);
    expect(forContractor.body.map((i) => i.uuid)).toContain(id);
    expect((await api<InteractionView[]>('GET', `/v2/docs/contractors/${secondContractorId}/interactions`)).body.map((i) => i.uuid)).not.toContain(id);

    // download with a documentId streams that document's PDF
    const pdf = await eventually(async () => {
      const res = await request(`${gateway.url}/v2/docs/interactions/${id}/download`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ documentId: docId }),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      return res.statusCode === 200 ? { headers: res.headers, body } : null;
    }, 30_000);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(String(pdf.headers['content-disposition'])).toContain("filename*=UTF-8''");
    expect(pdf.body.subarray(0, 5).toString()).toBe('%PDF-');
    // Its file gone from storage (the document deleted a moment ago, before document.deleted has
    // reached this read model): 404 naming the document, not a 500.
    const [{ storage_key: key }] = await sql<{ storage_key: string }>(`SELECT storage_key FROM document_replica WHERE id = $1`, [docId]);
    const storage = new MinioStorage({ endpoint: infraSettings.S3_ENDPOINT, accessKey: infraSettings.S3_ACCESS_KEY, secretKey: infraSettings.S3_SECRET_KEY });
    await storage.remove(Buckets.documents, key!);
    expect(await api('POST', `/v2/docs/interactions/${id}/download`, { documentId: docId })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND', message: expect.stringContaining('document') } });

    // removals (additive DELETE routes)
    expect((await api('DELETE', `/v2/docs/interactions/${id}/payments/${paid.body.uuid}`)).body).toEqual(ok);
    expect((await api('DELETE', `/v2/docs/interactions/${id}/documents/${docId}`)).body).toEqual(ok);
    expect((await api('DELETE', `/v2/docs/interactions/${id}/files/${file.body.uuid}`)).body).toEqual(ok);
    expect(await getOne(id)).toMatchObject({ payments: [], documents: [], files: [], paidSum: 0, balance: 50000 });
    expect((await api('DELETE', `/v2/docs/interactions/${id}/payments/${paid.body.uuid}`)).status).toBe(404);

    expect((await api('DELETE', `/v2/docs/interactions/${id}`)).body).toEqual(ok);
    expect((await api('GET', `/v2/docs/interactions/${id}`)).status).toBe(404);
    expect((await api<InteractionView[]>('GET', '/v2/docs/interactions')).body.map((i) => i.uuid)).not.toContain(id);
    expect((await api('DELETE', `/v2/docs/interactions/${id}`)).status).toBe(404);

    // every change went out on papka.interactions.v1 with the snapshot (version 2: payment totals, not payments), money in kopecks
    const wanted = [
      'interaction.created',
      'interaction.updated',
      'interaction.status-changed',
      'interaction.payment.recorded',
      'interaction.document.attached',
      'interaction.file.attached',
      'interaction.payment.removed',
      'interaction.document.detached',
      'interaction.file.detached',
      'interaction.deleted',
    ];
    const ofThis = <M extends { key: string | null }>(ms: M[]) => ms.filter((m) => m.key === id);
    const messages = ofThis(await readTopic(Topics.interactions, (ms) => ofThis(ms).length >= wanted.length));
    const events = messages.map((m) => JSON.parse(m.value) as { type: string; version: number; accountId: string; data: Record<string, unknown> });
    expect(events.map((e) => e.type)).toEqual(wanted);
    for (const e of events) {
      expect(e.version).toBe(2);
      expect(e.data).not.toHaveProperty('payments');
    }
    const recorded = events.find((e) => e.type === 'interaction.payment.recorded')!;
    expect(recorded.accountId).toBe(account);
    expect(recorded.data).toMatchObject({
      uuid: id,
      sum: 5_000_000,
      paidSum: 2_000_050,
      balance: 2_999_950,
      paymentsCount: 1,
      payment: { uuid: paid.body.uuid, type: 'income', sum: 2_000_050, date: '2025-09-22', contractorBank: { uuid: bankId, bik: BIK, number: ACCOUNT_NUMBER } },
    });
    expect(events.find((e) => e.type === 'interaction.payment.removed')!.data).toMatchObject({ paymentsCount: 0, paidSum: 0, payment: { uuid: paid.body.uuid } });
    expect(events.find((e) => e.type === 'interaction.status-changed')!.data).toMatchObject({ status: 2, previousStatus: 1 });
  });

  it('pages and filters the list by contractor, status and date', async () => {
    const a = await createInteraction('Фильтр А', 100, secondContractorId);
    const b = await createInteraction('Фильтр Б', 200, secondContractorId);
    await api('POST', `/v2/docs/interactions/${b}/status`, { status: 3 });
    const byContractor = await api<InteractionView[]>('GET', `/v2/docs/interactions?contractor=${secondContractorId}`);
    expect(byContractor.body.map((i) => i.uuid)).toEqual([b, a]);
    const byStatus = await api<InteractionView[]>('GET', `/v2/docs/interactions?contractor=${secondContractorId}&status=3`);
    expect(byStatus.body.map((i) => i.uuid)).toEqual([b]);
    const page2 = await api<InteractionView[]>('GET', `/v2/docs/interactions?contractor=${secondContractorId}&size=1&page=2`);
    expect(page2.body.map((i) => i.uuid)).toEqual([a]);
    const future = await api<InteractionView[]>('GET', `/v2/docs/interactions?from=2999-01-01`);
    expect(future.body).toEqual([]);
    expect((await api('GET', '/v2/docs/interactions?status=9')).status).toBe(400);
    expect((await api('GET', '/v2/docs/interactions?from=yesterday')).status).toBe(400);
    // Values an ISO 8601 check alone takes and PostgreSQL refuses: 400 naming the field, not 500.
    for (const q of ['from=2025', 'from=2025-02-30', 'to=2025-W05', 'to=0000-01-01']) {
      const res = await api<{ errors?: Record<string, unknown> }>('GET', `/v2/docs/interactions?${q}`);
      expect([q, res.status, Object.keys(res.body.errors ?? {})]).toEqual([q, 400, [q.split('=')[0]]]);
    }
  });

  it("reads a list's from/to in Moscow time (a date-time with an offset as given), whatever PostgreSQL's own TimeZone", async () => {
    const id = await createInteraction('Фильтр по времени', 100, secondContractorId);
    const { createdAt } = await getOne(id);
    // A replica whose sessions run 11 hours ahead of Moscow (its server's setting, say).
    const url = new URL(interactionsDb);
    url.searchParams.set('options', '-c timezone=Pacific/Kiritimati');
    const replica = await startService('interactions', serviceEnv({ ...s3Env(), DATABASE_URL: url.toString(), REPLICA_WAIT_MS: '300' }));
    try {
      const there = apiClient(replica.url, token);
      const moscow = (ms: number) => new Date(ms + 3 * 3600_000).toISOString().slice(0, 16); // YYYY-MM-DDTHH:mm, Moscow wall clock
      const at = Date.parse(createdAt);
      const ids = async (q: string) => (await there<InteractionView[]>('GET', `/v2/docs/interactions?contractor=${secondContractorId}&${q}`)).body.map((i) => i.uuid);
      // A minute either side of it on a Moscow clock (others of this suite may be in it too), a
      // window after it and one before it, and the Moscow day it was made.
      expect(await ids(`from=${moscow(at - 60_000)}&to=${moscow(at + 60_000)}`)).toContain(id);
      expect(await ids(`from=${moscow(at + 60_000)}`)).not.toContain(id);
      expect(await ids(`to=${moscow(at - 60_000)}`)).not.toContain(id);
      const day = moscow(at).slice(0, 10);
      expect(await ids(`from=${day}`)).toContain(id);
      expect(await ids(`to=${day}`)).not.toContain(id);
      // With its offset, an instant is that instant.
      expect(await ids(`from=${encodeURIComponent(new Date(at - 60_000).toISOString())}&to=${encodeURIComponent(new Date(at + 60_000).toISOString())}`)).toContain(id);
      expect(await ids(`from=${encodeURIComponent(new Date(at + 60_000).toISOString())}`)).not.toContain(id);
    } finally {
      await replica.stop();
    }
  });

  it('renames an interaction and changes its sum (additive PATCH), with an interaction.updated', async () => {
    const id = await createInteraction('Черновое название', 1000);
    await api('POST', `/v2/docs/interactions/${id}/payments`, { type: 'income', name: 'Аванс', sum: 400, date: '2025-10-01' });
    expect((await api('PATCH', `/v2/docs/interactions/${id}`, { name: 'Разработка сайта, этап 2', sum: 1500.5 })).body).toEqual({ status: 'OK' });
    expect(await getOne(id)).toMatchObject({ name: 'Разработка сайта, этап 2', sum: 1500.5, paidSum: 400, balance: 1100.5 });
    expect((await api('PATCH', `/v2/docs/interactions/${id}`, { sum: 1200 })).status).toBe(200);
    expect(await getOne(id)).toMatchObject({ name: 'Разработка сайта, этап 2', sum: 1200 });
    const bad = await api<{ errors: Record<string, string[]> }>('PATCH', `/v2/docs/interactions/${id}`, { sum: -1 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(['sum']);
    expect((await api('PATCH', `/v2/docs/interactions/${id}`, {})).status).toBe(400);
    expect((await otherApi('PATCH', `/v2/docs/interactions/${id}`, { name: 'Чужое' })).status).toBe(404);
    const updates = (await readTopic(Topics.interactions, (ms) => ms.filter((m) => m.key === id && m.value.includes('"interaction.updated"')).length >= 2, 10_000))
      .filter((m) => m.key === id && m.value.includes('"interaction.updated"'))
      .map((m) => (JSON.parse(m.value) as { data: { name: string; sum: number; balance: number } }).data);
    expect(updates).toEqual([
      expect.objectContaining({ name: 'Разработка сайта, этап 2', sum: 150_050, balance: 110_050 }),
      expect.objectContaining({ sum: 120_000 }),
    ]);
  });

  it('stores the description sanitized: no script, event handler or javascript: link, formatting kept', async () => {
    const id = await createInteraction('Описание с HTML');
    const res = await api('POST', `/v2/docs/interactions/${id}/desc`, {
      description:
        '<p>Этапы: <b>дизайн</b>, <i>вёрстка</i></p><ul><li>один</li></ul><script>alert(1)</script>' +
        '<img src="x" onerror="alert(2)"><a href="javascript:alert(3)">ссылка</a> <a href="https://example.ru">сайт</a>' +
        '<span style="background:url(https://evil.example/leak)">стиль</span>',
    });
    expect(res.status).toBe(200);
    const { description } = await getOne(id);
    expect(description).not.toMatch(/script|onerror|javascript|alert|style|evil|<img/i);
    expect(description).toContain('<p>Этапы: <b>дизайн</b>, <i>вёрстка</i></p>');
    expect(description).toContain('<ul><li>один</li></ul>');
    expect(description).toContain('href="https://example.ru"');
    expect(description).toContain('ссылка');
  });

  it("shows an attached document's later status and drops it when the document is deleted", async () => {
    const id = await createInteraction('Документы');
    const docId = await makeDocument(api, contractorId, 'Письмо для статуса');
    expect((await api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: docId })).status).toBe(201);
    expect((await getOne(id)).documents[0]).toMatchObject({ id: docId, information: { status: 1 } });

    expect((await api('POST', `/v2/docs/documents/${docId}`, { status: 3 })).status).toBe(200);
    // How soon is bench/interactions.bench.ts's to say; here only that it arrives.
    await eventually(async () => (await getOne(id)).documents[0]?.information.status === 3, 10_000, 25);

    expect((await api('DELETE', `/v2/docs/documents/${docId}`)).status).toBe(200);
    await eventually(async () => (await getOne(id)).documents.length === 0, 5_000, 25);
    // ... and a deleted document cannot be attached again
    expect((await api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: docId })).status).toBe(404);
    const detached = await readTopic(Topics.interactions, (ms) => ms.some((m) => m.key === id && m.value.includes('"interaction.document.detached"')), 10_000);
    const event = JSON.parse(detached.find((m) => m.key === id && m.value.includes('"interaction.document.detached"'))!.value);
    expect(event.data).toMatchObject({ document: { id: docId }, reason: 'document-deleted', documents: [] });
  });

  it('attaches a document again while its deletion is being handled by waiting for it, not by deadlocking', async () => {
    const id = await createInteraction('Гонка удаления');
    const docId = await makeDocument(api, contractorId, 'Письмо для гонки');
    expect((await api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: docId })).status).toBe(201);
    // What document.deleted's handler does, held open between its two steps: the replica row
    // first, then the interactions the document is attached to.
    const handler = new Client({ connectionString: interactionsDb });
    await handler.connect();
    try {
      await handler.query('BEGIN');
      await handler.query(`UPDATE document_replica SET version = version WHERE id = $1`, [docId]);
      const attach = api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: docId });
      await eventually(
        async () => (await handler.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`)).rowCount! > 0,
        10_000,
        20,
      );
      // The attach waits holding no lock on the interaction, so this goes through (it was a deadlock: 500 or the handler aborted).
      await handler.query(`SELECT 1 FROM interaction i JOIN interaction_document l ON l.interaction_id = i.id WHERE l.document_id = $1 FOR UPDATE OF i`, [docId]);
      await handler.query('ROLLBACK');
      expect((await attach).status).toBe(201);
    } finally {
      await handler.end();
    }
  });

  it('keeps interactions of a deleted contractor readable with its last name, INN and address', async () => {
    const { id: gone } = await makeContractor(api, 'ИП Уходящий', '500100732259', ACCOUNT_NUMBER);
    await replicated(gone);
    const id = await createInteraction('Сделка с ушедшим', 10, gone);
    expect((await api('DELETE', `/v2/docs/contractors/${gone}`)).status).toBe(200);
    await eventually(async () => (await sql(`SELECT 1 FROM contractor_replica WHERE id = $1 AND deleted`, [gone])).length === 1, 30_000);
    expect(await getOne(id)).toMatchObject({ contractor: { name: 'ИП Уходящий', inn: '500100732259', address: 'Московская обл, г Щёлково' } });
    expect((await api('GET', `/v2/docs/contractors/${gone}/interactions`)).body).toHaveLength(1);
    // no new interactions with it
    expect((await api('POST', '/v2/docs/interactions', { contractor: gone, name: 'Ещё', sum: 1 })).status).toBe(404);
  });

  it('bundles 3 documents and 2 files into a valid ZIP, streamed', async () => {
    const id = await createInteraction('Комплект');
    const docs: string[] = [];
    for (const name of ['Счёт', 'Акт', 'Счёт']) docs.push(await makeDocument(api, contractorId, name));
    for (const d of docs) expect((await api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: d })).status).toBe(201);
    const html = '<html><body><h1>Приложение</h1></body></html>';
    const pdf = fakePdf(5000);
    await api('POST', `/v2/docs/interactions/${id}/files`, { filename: await upload(gateway.url, token, 'app.html', html, 'text/html'), name: 'Приложение' });
    const scan = await upload(gateway.url, token, 'scan.pdf', pdf, 'application/pdf');
    const first = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${id}/files`, { filename: scan, name: 'Скан черновик' });
    // attaching the same upload again renames it, it does not add a second one
    const again = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${id}/files`, { filename: scan, name: 'Скан' });
    expect(again.body.uuid).toBe(first.body.uuid);
    expect((await getOne(id)).files.map((f) => f.name)).toEqual(['Приложение', 'Скан']);
    // all three rendered
    await eventually(async () => {
      const list = await api<{ uuid: string; renderState: string }[]>('GET', `/v2/docs/documents?contractor=${contractorId}&size=200`);
      return docs.every((d) => list.body.find((x) => x.uuid === d)?.renderState === 'rendered');
    }, 60_000);
    await eventually(async () => (await sql(`SELECT 1 FROM document_replica WHERE id = ANY($1) AND storage_key IS NOT NULL`, [docs])).length === 3, 10_000);

    const dir = mkdtempSync(path.join(tmpdir(), 'papka-bundle-'));
    try {
      for (const [method, route] of [
        ['GET', `/v2/docs/interactions/${id}/bundle`],
        ['POST', `/v2/docs/interactions/${id}/download`],
      ] as const) {
        const res = await request(`${gateway.url}${route}`, { method, headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('application/zip');
        expect(String(res.headers['content-disposition'])).toContain('.zip');
        const file = path.join(dir, `${method}.zip`);
        await pipeline(res.body, createWriteStream(file));
        const entries = await readZip(file);
        expect(entries.map((e) => e.name).sort()).toEqual(
          ['documents/Акт.pdf', 'documents/Счёт (2).pdf', 'documents/Счёт.pdf', 'files/Приложение.html', 'files/Скан.pdf'].sort(),
        );
        for (const e of entries.filter((x) => x.name.startsWith('documents/'))) expect(e.head.subarray(0, 5).toString()).toBe('%PDF-');
        expect(entries.find((e) => e.name === 'files/Скан.pdf')!.content!.equals(pdf)).toBe(true);
        expect(entries.find((e) => e.name === 'files/Приложение.html')!.content!.toString()).toBe(html);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps memory flat while bundling 200 MB of files', async () => {
    const id = await createInteraction('Большой комплект');
    const parts = 4;
    const partSize = 50 * 1024 * 1024;
    for (let i = 0; i < parts; i++) {
      const filename = await upload(gateway.url, token, `big-${i}.pdf`, fakePdf(partSize), 'application/pdf');
      expect((await api('POST', `/v2/docs/interactions/${id}/files`, { filename, name: `Большой ${i}` })).status).toBe(201);
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'papka-bundle-'));
    const samples: number[] = [];
    const before = rss(interactions.pid);
    const sampler = setInterval(() => samples.push(rss(interactions.pid)), 20);
    try {
      const res = await request(`${gateway.url}/v2/docs/interactions/${id}/bundle`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      const file = path.join(dir, 'big.zip');
      await pipeline(res.body, createWriteStream(file));
      clearInterval(sampler);
      const entries = await readZip(file, 0);
      expect(entries).toHaveLength(parts);
      for (const e of entries) expect(e.size).toBe(partSize + 9);
      const peak = Math.max(...samples);
      console.log(`bundle of ${parts * partSize} bytes: interactions RSS ${(before / 2 ** 20).toFixed(0)} MB before, peak ${(peak / 2 ** 20).toFixed(0)} MB`);
      // Buffering the archive would grow RSS by at least its 200 MB. Streaming holds a few buffers
      // live, but the chunks already sent are garbage until V8 collects them, and V8 starts that
      // collection on external memory only once it has grown 64 MiB since the last one. So a
      // streaming process can peak at 64 MiB plus its few buffers (70 MB seen in CI, when a limit
      // of 64 MiB failed); 128 MiB still tells it from one that buffers the archive.
      expect(peak - before).toBeLessThan(128 * 1024 * 1024);
    } finally {
      clearInterval(sampler);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('creates once per Idempotency-Key: a retried create or payment gets the first answer back', async () => {
    const key = { 'idempotency-key': `create-${randomBytes(4).toString('hex')}` };
    const body = { contractor: secondContractorId, name: 'Повтор', sum: 10 };
    const [a, b] = await Promise.all([
      api<{ uuid: string }>('POST', '/v2/docs/interactions', body, { headers: key }),
      api<{ uuid: string }>('POST', '/v2/docs/interactions', body, { headers: key }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.uuid).toBe(b.body.uuid);
    expect([a.headers.get('idempotent-replayed'), b.headers.get('idempotent-replayed')].sort()).toEqual(['true', null].sort());
    const listed = await api<InteractionView[]>('GET', `/v2/docs/interactions?contractor=${secondContractorId}`);
    expect(listed.body.filter((i) => i.name === 'Повтор')).toHaveLength(1);
    const reused = await api<{ code: string }>('POST', '/v2/docs/interactions', { ...body, sum: 11 }, { headers: key });
    expect(reused).toMatchObject({ status: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });

    const payKey = { 'idempotency-key': `pay-${randomBytes(4).toString('hex')}` };
    const payment = { type: 'income', name: 'Оплата', sum: 5, date: '2025-10-01' };
    const first = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${a.body.uuid}/payments`, payment, { headers: payKey });
    const again = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${a.body.uuid}/payments`, payment, { headers: payKey });
    expect(again).toMatchObject({ status: 201, body: { uuid: first.body.uuid } });
    expect(await getOne(a.body.uuid)).toMatchObject({ paidSum: 5, payments: [{ uuid: first.body.uuid }] });
    // a failed request does not use up its key
    const badKey = { 'idempotency-key': `bad-${randomBytes(4).toString('hex')}` };
    expect((await api('POST', `/v2/docs/interactions/${a.body.uuid}/payments`, { ...payment, contractorBank: bankId }, { headers: badKey })).status).toBe(400);
    expect((await api('POST', `/v2/docs/interactions/${a.body.uuid}/payments`, payment, { headers: badKey })).status).toBe(201);
    expect((await api('POST', '/v2/docs/interactions', body, { headers: { 'idempotency-key': 'k'.repeat(201) } })).status).toBe(400);
  });

  it('replays a retried create or payment whose answer was lost, though its contractor or interaction was deleted since', async () => {
    const { id: gone } = await makeContractor(api, 'ООО Ушедший навсегда', undefined, OTHER_NUMBER);
    await replicated(gone);
    const key = { 'idempotency-key': `lost-${randomBytes(4).toString('hex')}` };
    const body = { contractor: gone, name: 'Ответ потерян', sum: 10 };
    const created = await api<{ uuid: string }>('POST', '/v2/docs/interactions', body, { headers: key });
    expect(created.status).toBe(201);
    const payKey = { 'idempotency-key': `lost-pay-${randomBytes(4).toString('hex')}` };
    const payment = { type: 'income', name: 'Оплата', sum: 5, date: '2025-10-01' };
    const paid = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${created.body.uuid}/payments`, payment, { headers: payKey });
    expect(paid.status).toBe(201);

    expect((await api('DELETE', `/v2/docs/contractors/${gone}`)).status).toBe(200);
    await eventually(async () => (await sql(`SELECT 1 FROM contractor_replica WHERE id = $1 AND deleted`, [gone])).length === 1, 30_000);
    const again = await api<{ uuid: string }>('POST', '/v2/docs/interactions', body, { headers: key });
    expect({ status: again.status, uuid: again.body.uuid, replayed: again.headers.get('idempotent-replayed') }).toEqual({ status: 201, uuid: created.body.uuid, replayed: 'true' });
    // a new key is a new create, and the contractor is gone
    expect((await api('POST', '/v2/docs/interactions', body, { headers: { 'idempotency-key': `new-${randomBytes(4).toString('hex')}` } })).status).toBe(404);

    expect((await api('DELETE', `/v2/docs/interactions/${created.body.uuid}`)).status).toBe(200);
    const payAgain = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${created.body.uuid}/payments`, payment, { headers: payKey });
    expect({ status: payAgain.status, uuid: payAgain.body.uuid, replayed: payAgain.headers.get('idempotent-replayed') }).toEqual({ status: 201, uuid: paid.body.uuid, replayed: 'true' });
    expect((await api('POST', `/v2/docs/interactions/${created.body.uuid}/payments`, payment)).status).toBe(404);
  });

  it('names a bundle and its entries so any system takes them: cut at a whole character, no characters Windows forbids', async () => {
    // 157 characters: the 150-unit cut fell inside the emoji, and the answer was a 500
    const long = 'Сделка ' + 'я'.repeat(142) + '😀 финал';
    const id = await createInteraction(long);
    const scan = await upload(gateway.url, token, 'scan.pdf', fakePdf(100), 'application/pdf');
    expect((await api('POST', `/v2/docs/interactions/${id}/files`, { filename: scan, name: 'Договор с ООО "Ромашка": акт?' })).status).toBe(201);
    const dir = mkdtempSync(path.join(tmpdir(), 'papka-bundle-'));
    try {
      const res = await request(`${gateway.url}/v2/docs/interactions/${id}/bundle`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['content-disposition'])).toContain(`filename*=UTF-8''${encodeURIComponent('Сделка ' + 'я'.repeat(142) + '😀')}.zip`);
      const file = path.join(dir, 'names.zip');
      await pipeline(res.body, createWriteStream(file));
      expect((await readZip(file)).map((e) => e.name)).toEqual(['files/Договор с ООО _Ромашка__ акт_.pdf']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 503 while MinIO is down, writes nothing, and works once it is back', async () => {
    const id = await createInteraction('Хранилище недоступно');
    const filename = await upload(gateway.url, token, 'scan.pdf', fakePdf(100), 'application/pdf');
    await infra('down', 'minio');
    try {
      const attach = await api<{ code: string }>('POST', `/v2/docs/interactions/${id}/files`, { filename, name: 'Скан' });
      expect(attach.status).toBe(503);
      expect(attach.body.code).toBe('STORAGE_UNAVAILABLE');
      expect((await getOne(id)).files).toEqual([]);
      // the rest of the service still answers
      expect((await api('POST', `/v2/docs/interactions/${id}/status`, { status: 2 })).status).toBe(200);
    } finally {
      await infra('up', 'minio');
    }
    await eventually(async () => (await api('POST', `/v2/docs/interactions/${id}/files`, { filename, name: 'Скан' })).status === 201, 30_000);
    const bundle = await request(`${gateway.url}/v2/docs/interactions/${id}/bundle`, { headers: { authorization: `Bearer ${token}` } });
    expect(bundle.statusCode).toBe(200);
    expect(Buffer.from(await bundle.body.arrayBuffer()).subarray(0, 2).toString('latin1')).toBe('PK');
  }, 120_000);

  describe('bad input', () => {
    let id: string;
    beforeAll(async () => {
      id = await createInteraction('Проверки', 1000);
    });

    it('answers 404 for an unknown contractor, document or file, and for one of another account', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      const expect404 = async (res: Promise<{ status: number; body: unknown }>, what: string) => {
        const r = await res;
        expect({ what, status: r.status }).toEqual({ what, status: 404 });
      };
      await expect404(api('POST', '/v2/docs/interactions', { contractor: unknown, name: 'x', sum: 1 }), 'unknown contractor');
      await expect404(api('POST', '/v2/docs/interactions', { contractor: otherContractorId, name: 'x', sum: 1 }), "another account's contractor");
      await expect404(api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: unknown }), 'unknown document');
      const otherDoc = await makeDocument(otherApi, otherContractorId, 'Чужое письмо');
      await eventually(async () => (await sql(`SELECT 1 FROM document_replica WHERE id = $1`, [otherDoc])).length === 1, 10_000);
      await expect404(api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: otherDoc }), "another account's document");
      await expect404(api('POST', `/v2/docs/interactions/${id}/files`, { filename: 'abcdef0123.pdf', name: 'x' }), 'unknown file');
      const otherFile = await upload(gateway.url, otherToken, 'other.pdf', fakePdf(100), 'application/pdf');
      await expect404(api('POST', `/v2/docs/interactions/${id}/files`, { filename: otherFile, name: 'x' }), "another account's file");
      await expect404(otherApi('GET', `/v2/docs/interactions/${id}`), "another account's interaction");
      await expect404(otherApi('POST', `/v2/docs/interactions/${id}/status`, { status: 2 }), "another account's interaction status");
      // A payment: another account can neither record one on this interaction nor remove one of its own.
      const pay = { type: 'income', name: 'Оплата', sum: 100, date: '2026-01-15' };
      await expect404(otherApi('POST', `/v2/docs/interactions/${id}/payments`, pay), "another account's interaction payment");
      const mine = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${id}/payments`, pay);
      expect(mine.status).toBe(201);
      await expect404(otherApi('DELETE', `/v2/docs/interactions/${id}/payments/${mine.body.uuid}`), "another account's payment removal");
      expect(await sql(`SELECT id FROM interaction_payment WHERE interaction_id = $1`, [id])).toEqual([{ id: mine.body.uuid }]);
      expect((await api('DELETE', `/v2/docs/interactions/${id}/payments/${mine.body.uuid}`)).status).toBe(200);
      await expect404(api('POST', `/v2/docs/interactions/${unknown}/desc`, { description: 'x' }), 'unknown interaction');
      await expect404(api('GET', `/v2/docs/contractors/${otherContractorId}/interactions`), "another account's contractor list");
      // nothing was half-written
      expect((await getOne(id)).documents).toEqual([]);
      expect((await getOne(id)).files).toEqual([]);
    });

    it('answers 400 naming the field for a negative or non-numeric sum', async () => {
      for (const sum of [-1, 'abc', '', null, 10.123]) {
        const res = await api<{ errors: Record<string, string[]> }>('POST', '/v2/docs/interactions', { contractor: contractorId, name: 'x', sum });
        expect({ sum, status: res.status, fields: Object.keys(res.body.errors ?? {}) }).toEqual({ sum, status: 400, fields: ['sum'] });
      }
      for (const sum of [-5, 'много', 0]) {
        const res = await api<{ errors: Record<string, string[]> }>('POST', `/v2/docs/interactions/${id}/payments`, {
          type: 'income',
          name: 'x',
          sum,
          date: '2025-09-22',
        });
        expect({ sum, status: res.status, fields: Object.keys(res.body.errors ?? {}) }).toEqual({ sum, status: 400, fields: ['sum'] });
      }
      const badDate = await api<{ errors: Record<string, string[]> }>('POST', `/v2/docs/interactions/${id}/payments`, { type: 'income', name: 'x', sum: 1, date: '22.09.2025' });
      expect(badDate.status).toBe(400);
      expect(Object.keys(badDate.body.errors)).toEqual(['date']);
      const badType = await api<{ errors: Record<string, string[]> }>('POST', `/v2/docs/interactions/${id}/payments`, { type: 'gift', name: 'x', sum: 1, date: '2025-09-22' });
      expect(Object.keys(badType.body.errors)).toEqual(['type']);
      expect((await getOne(id)).payments).toEqual([]);
    });

    it("answers 400 for a contractorBank of another contractor and accepts the contractor's own", async () => {
      const res = await api<{ errors: Record<string, string[]> }>('POST', `/v2/docs/interactions/${id}/payments`, {
        type: 'income',
        name: 'x',
        sum: 1,
        date: '2025-09-22',
        contractorBank: secondBankId,
      });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors)).toEqual(['contractorBank']);
      expect((await getOne(id)).payments).toEqual([]);
      const own = await api('POST', `/v2/docs/interactions/${id}/payments`, { type: 'outcome', name: 'Возврат', sum: 1, date: '2025-09-23T10:00:00Z', contractorBank: ACCOUNT_NUMBER });
      expect(own.status).toBe(201);
      expect((await getOne(id)).payments).toMatchObject([{ type: 'outcome', sum: 1, date: '2025-09-23', contractorBank: bankId }]);
      expect(await getOne(id)).toMatchObject({ paidSum: -1, balance: 1001 });
    });

    it('answers 400 for an unknown status and 409 for a transition that is not allowed', async () => {
      for (const status of [0, 6, 'done', null]) {
        const res = await api<{ errors: Record<string, string[]> }>('POST', `/v2/docs/interactions/${id}/status`, { status });
        expect({ status, code: res.status, fields: Object.keys(res.body.errors ?? {}) }).toEqual({ status, code: 400, fields: ['status'] });
      }
      expect((await api('POST', `/v2/docs/interactions/${id}/status`, { status: 5 })).status).toBe(200);
      const res = await api<{ code: string; message: string }>('POST', `/v2/docs/interactions/${id}/status`, { status: 4 });
      expect(res.status).toBe(409);
      expect(res.body.message).toContain('allowed: 1 (new)');
      expect((await getOne(id)).status).toBe(5);
      expect((await api('POST', `/v2/docs/interactions/${id}/status`, { status: 1 })).status).toBe(200);
    });
  });

  it('rebuilds a lost read model from the snapshots the announce commands re-publish', async () => {
    const mine = [account, otherAccount];
    const replicas = async () => ({
      contractors: await sql(`SELECT id, account_id, name, inn, address, bank_accounts, deleted FROM contractor_replica WHERE account_id = ANY($1) ORDER BY id`, [mine]),
      documents: await sql(
        `SELECT id, account_id, name, type, status, render_state, filename, storage_key, masks, sum, created_at, deleted
           FROM document_replica WHERE account_id = ANY($1) AND NOT deleted ORDER BY id`,
        [mine],
      ),
    });
    const before = await replicas();
    expect(before.contractors.length).toBeGreaterThan(2);
    // As if the history had never reached this service (a new service, a restored database).
    await sql(`DELETE FROM contractor_replica WHERE account_id = ANY($1) AND NOT deleted`, [mine]);
    await sql(`DELETE FROM document_replica WHERE account_id = ANY($1) AND NOT deleted`, [mine]);
    for (const [service, db] of [['contractors', contractorsDb], ['documents', documentsDb]] as const) {
      const { stdout } = await run(process.execPath, ['-r', '@swc-node/register', `apps/${service}/src/announce.ts`], {
        cwd: REPO_ROOT,
        env: serviceEnv({ DATABASE_URL: db }),
      });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ msg: `${service} announced`, count: expect.any(Number) });
    }
    await eventually(async () => {
      const now = await replicas();
      return now.contractors.length === before.contractors.length && now.documents.length === before.documents.length;
    }, 30_000);
    expect(await replicas()).toEqual(before);
  }, 120_000);

  it('leaves the read models exactly as they were when every event is replayed (consumer-group offset reset)', async () => {
    // This run's accounts: the topics also hold other suites' and earlier runs' events.
    const mine = [account, otherAccount];
    const dump = async () => ({
      contractors: await sql(`SELECT * FROM contractor_replica WHERE account_id = ANY($1) ORDER BY id`, [mine]),
      documents: await sql(`SELECT * FROM document_replica WHERE account_id = ANY($1) ORDER BY id`, [mine]),
      links: await sql(`SELECT l.* FROM interaction_document l JOIN interaction i ON i.id = l.interaction_id ORDER BY 1, 2`),
      interactions: await sql(`SELECT * FROM interaction ORDER BY id`),
      payments: await sql(`SELECT * FROM interaction_payment ORDER BY id`),
      outbox: await sql(`SELECT count(*)::int AS n FROM outbox`),
    });
    const before = await dump();
    expect(before.documents.length).toBeGreaterThan(3);

    await interactions.stop();
    const kafka = new Kafka({ clientId: 'papka-test-replay', brokers: infraSettings.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of [Topics.contractors, Topics.documents]) await admin.resetOffsets({ groupId: 'interactions', topic, earliest: true });
      // Without the inbox's record of handled events, the handlers themselves must be idempotent.
      await sql(`DELETE FROM inbox`);
      interactions = await startInteractions();
      const lag = async () => {
        let total = 0;
        for (const topic of [Topics.contractors, Topics.documents]) {
          const ends = await admin.fetchTopicOffsets(topic);
          const [committed] = await admin.fetchOffsets({ groupId: 'interactions', topics: [topic] });
          for (const p of ends) {
            const at = Number(committed!.partitions.find((c) => c.partition === p.partition)?.offset ?? -1);
            total += Number(p.high) - Math.max(at, 0);
          }
        }
        return total;
      };
      await eventually(async () => (await lag()) === 0, 60_000, 250);
      const handled = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE consumer_group = 'interactions'`);
      expect(handled[0]!.n).toBeGreaterThan(before.documents.length);
    } finally {
      await admin.disconnect();
    }
    expect(await dump()).toEqual(before);
  }, 120_000);
});
