import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { Registry, type Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { request } from 'undici';
import { Topics, type DocumentView } from '@papka/contracts';
import { amountInWords, paymentQrPayload } from '@papka/ru';
import {
  apiClient,
  baseUrl,
  createTestDatabase,
  dadataEnv,
  dropDatabase,
  eventually,
  freePort,
  FIXTURE_ACCOUNT_NUMBER as ACCOUNT,
  FIXTURE_BIK as BIK,
  FIXTURE_INN as INN,
  infra,
  infraEnv,
  publishRecord,
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
import { RenderPoolHost } from '../src/rendering/render-pool.provider';
import { BUILTIN_TEMPLATES } from '../src/templates/builtin/builtin';
import { download, seedInvoiceParties } from './parties';

const run = promisify(execFile);
type Api = ReturnType<typeof apiClient>;

/** The text of a PDF, as `pdftotext` reads it. */
async function pdfText(pdf: Buffer): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'papka-pdf-'));
  try {
    writeFileSync(path.join(dir, 'a.pdf'), pdf);
    await run('pdftotext', ['-layout', path.join(dir, 'a.pdf'), path.join(dir, 'a.txt')]);
    return readFileSync(path.join(dir, 'a.txt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pdfPages(pdf: Buffer): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'papka-pdf-'));
  try {
    writeFileSync(path.join(dir, 'a.pdf'), pdf);
    const { stdout } = await run('pdfinfo', [path.join(dir, 'a.pdf')]);
    return Number(/Pages:\s+(\d+)/.exec(stdout)?.[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Decodes the QR code on the first page (rasterised with pdftoppm, read with jsQR). */
async function pdfQr(pdf: Buffer): Promise<string | null> {
  const dir = mkdtempSync(path.join(tmpdir(), 'papka-pdf-'));
  try {
    writeFileSync(path.join(dir, 'a.pdf'), pdf);
    await run('pdftoppm', ['-png', '-r', '200', '-f', '1', '-l', '1', path.join(dir, 'a.pdf'), path.join(dir, 'page')]);
    const file = readFileSync(path.join(dir, 'page-1.png'));
    const png = PNG.sync.read(file);
    return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('documents through the gateway (PostgreSQL + Kafka + MinIO + Chromium)', () => {
  let dadata: FakeDadata;
  let contractorsDb: string;
  let documentsDb: string;
  let contractors: RunningService;
  let documents: INestApplication;
  let gateway: RunningService;
  let token: string;
  let api: Api;
  let contractorId: string;

  beforeAll(async () => {
    dadata = await startFakeDadata();
    contractorsDb = await createTestDatabase('doc_contractors');
    documentsDb = await createTestDatabase('documents');
    contractors = await startService('contractors', serviceEnv({ DATABASE_URL: contractorsDb, ...dadataEnv(dadata) }));
    documents = await bootstrap({
      ...serviceEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: documentsDb,
      ...s3Env(),
      CHROMIUM_PATH: infraEnv().CHROMIUM_PATH,
      RENDER_PAGES: '2',
      UPLOAD_LIMIT_BYTES: String(256 * 1024),
      DOWNLOAD_WAIT_MS: '1500',
    });
    gateway = await startService('gateway', {
      ...serviceEnv(),
      CONTRACTORS_URL: contractors.url,
      DOCUMENTS_URL: baseUrl(documents),
      RATE_LIMIT_POINTS: '10000',
    });
    token = await testToken('doc-acc');
    api = apiClient(gateway.url, token);

    contractorId = await seedInvoiceParties(api, documents, 'doc-acc', { name: 'ИП Артиков Тимур Дилшодович', address: 'Московская обл, г Щёлково' });
  });

  afterAll(async () => {
    await gateway?.stop();
    await documents?.close();
    await contractors?.stop();
    await dadata?.close();
    for (const db of [contractorsDb, documentsDb]) if (db) await dropDatabase(db);
  });

  it('turns an uploaded HTML template with masks into a PDF with the values, HTML-escaped', async () => {
    const html = '<h1>Письмо для {{contractor.name}}</h1><p>Номер: {{docNumber}}</p><p>Тема: {{topic}}</p>';
    const up = await upload(gateway.url, token, 'letter.html', html, 'text/html');
    expect(up).toMatchObject({ status: 200, body: { status: 'OK', filename: expect.stringMatching(/^[0-9a-f]{10}\.html$/) } });
    const tpl = await api<{ uuid: string }>('POST', '/v2/docs/templates', {
      name: 'Письмо клиенту',
      filename: up.body.filename,
      masks: [
        { id: 'docNumber', name: 'Номер документа', type: 'number' },
        { id: 'topic', name: 'Тема', type: 'string' },
      ],
      font: 'Arial',
    });
    expect(tpl.status).toBe(201);
    const made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
      type: 'Письмо',
      template: tpl.body.uuid,
      name: 'Письмо № 7',
      contractor: contractorId,
      sum: 0,
      masks: { docNumber: 7, topic: '<b>Сверка</b> & "акт"' },
    });
    expect(made).toMatchObject({ status: 201, body: { status: 'OK', uuid: expect.any(String) } });

    const file = await download(gateway.url, token, made.body.uuid);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(String(file.headers['content-disposition'])).toContain("filename*=UTF-8''");
    expect(file.body.subarray(0, 5).toString()).toBe('%PDF-');
    const text = (await pdfText(file.body)).replace(/\s+/g, ' ');
    expect(text).toContain('Письмо для ИП Артиков Тимур Дилшодович');
    expect(text).toContain('Номер: 7');
    expect(text).toContain('Тема: <b>Сверка</b> & "акт"'); // escaped: shown as text, not markup

    const list = await api<DocumentView[]>('GET', '/v2/docs/documents');
    expect(list.body[0]).toMatchObject({
      uuid: made.body.uuid,
      name: 'Письмо № 7',
      status: 1,
      filename: expect.stringMatching(/\.pdf$/),
      contractor: { name: 'ИП Артиков Тимур Дилшодович', inn: INN, address: 'Московская обл, г Щёлково' },
      masks: { docNumber: 7 },
      sum: 0,
      renderState: 'rendered',
      createdAt: expect.any(String),
    });
  });

  it('a constructor call naming a contractor whose event has not arrived yet waits for it (REPLICA_WAIT_MS) instead of a 404', async () => {
    // The contractor as the contractors service announced one: the same event under a new id,
    // published only after the call, as a slow broker would deliver it.
    const since = Date.now() - 1_000;
    const made = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 2, name: 'ООО «Запоздалый»', address: 'г Москва' });
    expect(made.status).toBe(201);
    const [event] = (await readTopic(Topics.contractors, (ms) => ms.some((m) => m.key === made.body.uuid), 20_000, since)).filter((m) => m.key === made.body.uuid);
    const late = randomUUID();
    const envelope = JSON.parse(event!.value) as { id: string; aggregateId: string; data: { uuid: string } };
    Object.assign(envelope, { id: randomUUID(), aggregateId: late });
    envelope.data.uuid = late;
    const letter = BUILTIN_TEMPLATES.find((t) => t.kind === 'letter')!;
    const call = api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'Письмо', template: letter.uuid, name: 'Письмо запоздалому', contractor: late, masks: { body: 'Текст' } });
    await new Promise((r) => setTimeout(r, 500));
    await publishRecord(Topics.contractors, late, JSON.stringify(envelope));
    expect((await call).status).toBe(201);
    expect((await api('GET', `/v2/docs/contractors/${late}/documents`)).status).toBe(200);
    // One that never comes is still a 404, after the wait.
    expect((await api('POST', '/v2/docs/constructor', { type: 'Письмо', template: letter.uuid, name: 'Никому', contractor: randomUUID(), masks: { body: 'Текст' } })).status).toBe(404);
  });

  it('makes one document per Idempotency-Key however often the constructor call is retried', async () => {
    const letter = BUILTIN_TEMPLATES.find((t) => t.kind === 'letter')!;
    const headers = { 'idempotency-key': `doc-${Date.now()}` };
    const body = { type: 'Письмо', template: letter.uuid, name: 'Письмо-повтор', contractor: contractorId, masks: { body: 'Текст' } };
    const first = await api<{ uuid: string }>('POST', '/v2/docs/constructor', body, { headers });
    const again = await api<{ uuid: string }>('POST', '/v2/docs/constructor', body, { headers });
    expect(first.status).toBe(201);
    expect(again).toMatchObject({ status: 201, body: { uuid: first.body.uuid } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const list = await api<DocumentView[]>('GET', '/v2/docs/documents?size=200');
    expect(list.body.filter((d) => d.name === 'Письмо-повтор')).toHaveLength(1);
  });

  it('replays a constructor call by its Idempotency-Key even after its template was deleted (a new key then gets the 404)', async () => {
    const html = await upload(gateway.url, token, 'replay.html', '<p>{{contractor.name}}</p>', 'text/html');
    const tpl = await api<{ uuid: string }>('POST', '/v2/docs/templates', { name: 'Повтор', filename: html.body.filename, masks: [], font: 'Arial' });
    expect(tpl.status).toBe(201);
    const body = { type: 'Повтор', template: tpl.body.uuid, name: 'Повтор после удаления', contractor: contractorId };
    const headers = { 'idempotency-key': `replay-${Date.now()}` };
    const first = await api<{ uuid: string }>('POST', '/v2/docs/constructor', body, { headers });
    expect(first.status).toBe(201);
    // Rendered first: a template whose documents are still pending cannot be deleted (409 TEMPLATE_IN_USE).
    expect((await download(gateway.url, token, first.body.uuid)).status).toBe(200);
    expect((await api('DELETE', `/v2/docs/templates/${tpl.body.uuid}`)).status).toBe(200);
    // The client never saw the first answer (a timeout) and sends the call again.
    const again = await api<{ uuid: string }>('POST', '/v2/docs/constructor', body, { headers });
    expect(again).toMatchObject({ status: 201, body: { uuid: first.body.uuid } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await api('POST', '/v2/docs/constructor', body, { headers: { 'idempotency-key': `${headers['idempotency-key']}-new` } })).status).toBe(404);
  });

  it('renders the built-in invoice on one page with the VAT, the total in words and a payment QR that decodes', async () => {
    const invoice = BUILTIN_TEMPLATES.find((t) => t.kind === 'invoice')!;
    const made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
      type: 'Счёт',
      template: invoice.uuid,
      name: 'Счёт № 15',
      contractor: contractorId,
      masks: {
        number: '15',
        date: '2026-06-05',
        vatRate: '22',
        vatMode: 'on-top',
        lines: [
          { title: 'Разработка сайта', measure: 'усл.', quantity: 1, price: 4_000_000 },
          { title: 'Поддержка', measure: 'мес.', quantity: 2, price: 500_000 },
        ],
      },
    });
    expect(made.status).toBe(201);
    const file = await download(gateway.url, token, made.body.uuid);
    expect(file.status).toBe(200);
    expect(await pdfPages(file.body)).toBe(1);
    const text = (await pdfText(file.body)).replace(/\u00a0/g, ' ');
    // 50 000,00 net + 22 % = 11 000,00 VAT, 61 000,00 in all.
    expect(text).toContain('11 000,00');
    expect(text).toContain('61 000,00');
    expect(text).toContain(amountInWords(6_100_000));

    const qr = await pdfQr(file.body);
    expect(qr).not.toBeNull();
    expect(qr!.startsWith('ST00012|Name=')).toBe(true);
    expect(qr).toContain(`|PersonalAcc=${ACCOUNT}|`);
    expect(qr).toContain(`|BIC=${BIK}|`);
    expect(qr).toContain('|CorrespAcc=30101810745374525104|');
    expect(qr).toContain('|Sum=6100000|');
    expect(qr).toContain('|PayeeINN=7707083893');
    // Exactly what libs/ru builds from the same requisites.
    const fields = Object.fromEntries(qr!.split('|').slice(1).map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
    expect(qr).toBe(
      paymentQrPayload({
        name: fields.Name,
        personalAcc: ACCOUNT,
        bankName: fields.BankName,
        bic: BIK,
        correspAcc: '30101810745374525104',
        sumKopecks: 6_100_000,
        purpose: fields.Purpose,
        payeeInn: '7707083893',
        kpp: fields.KPP,
      }),
    );
    const listed = (await api<DocumentView[]>('GET', `/v2/docs/documents?contractor=${contractorId}&type=${encodeURIComponent('Счёт')}`)).body;
    expect(listed.map((d) => d.sum)).toEqual([61000]);
  });

  it("takes the organisation's default VAT for an invoice that names none, in its sum, PDF and QR", async () => {
    const replicaVat = async () =>
      ((await documents.get(DataSource).query(`SELECT snapshot->>'vatRate' AS v FROM organization_replica WHERE account_id = 'doc-acc'`)) as { v: string | null }[])[0]?.v ?? null;
    expect((await api('PUT', '/v2/docs/organization', { inn: '7707083893', vatRate: 'none' })).status).toBe(200);
    await eventually(async () => (await replicaVat()) === 'none', 30_000);
    try {
      const invoice = BUILTIN_TEMPLATES.find((t) => t.kind === 'invoice')!;
      const made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
        type: 'Счёт',
        template: invoice.uuid,
        name: 'Счёт УСН',
        contractor: contractorId,
        masks: { number: '16', date: '2026-06-05', lines: [{ title: 'Консультация', measure: 'час', quantity: 2, price: 300_000 }] },
      });
      expect(made.status).toBe(201);
      const file = await download(gateway.url, token, made.body.uuid);
      expect(file.status).toBe(200);
      const text = (await pdfText(file.body)).replace(/\u00a0/g, ' ').replace(/\s+/g, ' ');
      expect(text).toContain('Без НДС');
      expect(text).not.toContain('НДС 22%');
      expect(text).toContain('Назначение платежа: Оплата по счёту № 16 от 05.06.2026. НДС не облагается');
      expect(await pdfQr(file.body)).toContain('|Sum=600000|Purpose=Оплата по счёту № 16 от 05.06.2026. НДС не облагается|');
      const listed = (await api<DocumentView[]>('GET', `/v2/docs/documents?contractor=${contractorId}&size=200`)).body;
      expect(listed.find((d) => d.uuid === made.body.uuid)).toMatchObject({ sum: 6000, masks: { vatRate: 'none' } });
    } finally {
      expect((await api('PUT', '/v2/docs/organization', { inn: '7707083893', vatRate: null })).status).toBe(200);
      await eventually(async () => (await replicaVat()) === null, 30_000);
    }
  });

  it('makes no outside request, reads no local file and runs no script while rendering', async () => {
    let hits = 0;
    const listener: Server = createServer((_req, res) => {
      hits++;
      res.end('x');
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as AddressInfo).port;
    try {
      const html = `<p>Видимый текст</p>
        <img src="http://127.0.0.1:${port}/x">
        <link rel="stylesheet" href="http://127.0.0.1:${port}/s.css">
        <iframe src="file:///etc/passwd"></iframe>
        <script>document.body.innerHTML = 'SCRIPT-RAN';</script>`;
      const up = await upload(gateway.url, token, 'evil.html', html, 'text/html');
      const made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
        type: 'Тест',
        filename: up.body.filename,
        name: 'evil',
        contractor: contractorId,
      });
      const file = await download(gateway.url, token, made.body.uuid);
      expect(file.status).toBe(200);
      const text = await pdfText(file.body);
      expect(text).toContain('Видимый текст');
      expect(text).not.toContain('root:x:0:0');
      expect(text).not.toContain('SCRIPT-RAN');
      expect(hits).toBe(0);
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });

  it('lists built-in templates for every account and refuses to delete them', async () => {
    const other = apiClient(gateway.url, await testToken('doc-other'));
    const list = await other<{ uuid: string; name: string; builtin: boolean }[]>('GET', '/v2/docs/templates');
    expect(list.body.filter((t) => t.builtin).map((t) => t.name)).toEqual(BUILTIN_TEMPLATES.map((t) => t.name));
    expect((await other('DELETE', `/v2/docs/templates/${BUILTIN_TEMPLATES[0].uuid}`)).status).toBe(409);
  });

  describe('deleting a template its documents still need', () => {
    const ownTemplate = async (name: string) => {
      const html = await upload(gateway.url, token, `${name}.html`, '<p>{{contractor.name}}: {{number}}</p>', 'text/html');
      const tpl = await api<{ uuid: string }>('POST', '/v2/docs/templates', { name, filename: html.body.filename, masks: [{ id: 'number', name: 'Номер', type: 'string' }] });
      expect(tpl.status).toBe(201);
      return tpl.body.uuid;
    };

    it('409s TEMPLATE_IN_USE while a document made from it is pending, deletes it once none is, and then 409s TEMPLATE_DELETED to a render asked again', async () => {
      const template = await ownTemplate('in-use');
      const made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'Письмо', template, name: 'Ждёт шаблон', contractor: contractorId, masks: { number: '1' } });
      expect(made.status).toBe(201);
      expect((await download(gateway.url, token, made.body.uuid)).status).toBe(200);
      // Pinned in `pending`, as a document still rendering (renders here take ~100 ms).
      const ds = documents.get(DataSource);
      await ds.query(`UPDATE document SET render_state = 'pending', updated_at = now() WHERE id = $1`, [made.body.uuid]);
      const refused = await api<{ code: string; message: string }>('DELETE', `/v2/docs/templates/${template}`);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ status: 'ERROR', code: 'TEMPLATE_IN_USE', message: expect.stringContaining('1 document') });
      expect((await api<{ uuid: string }[]>('GET', '/v2/docs/templates?size=200')).body.map((t) => t.uuid)).toContain(template);

      // Failed meanwhile (nothing pends on it): the delete goes through ...
      await ds.query(`UPDATE document SET render_state = 'failed', render_error = 'boom' WHERE id = $1`, [made.body.uuid]);
      expect((await api('DELETE', `/v2/docs/templates/${template}`)).status).toBe(200);
      // ... and rendering that document again is refused at once, not accepted (202) to fail again.
      const again = await api<{ code: string }>('POST', `/v2/docs/documents/${made.body.uuid}/render`);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('TEMPLATE_DELETED');
      const [row] = await ds.query(`SELECT render_state, revision FROM document WHERE id = $1`, [made.body.uuid]);
      expect(row).toMatchObject({ render_state: 'failed', revision: 1 });
    });

    it('a constructor call racing the delete either is counted by it or gets a 404, never a document the delete leaves to fail', async () => {
      const template = await ownTemplate('race');
      const ds = documents.get(DataSource);
      // The delete's transaction, held open with the template locked, as TemplatesService.remove holds it.
      const qr = ds.createQueryRunner();
      await qr.connect();
      try {
        await qr.startTransaction();
        await qr.query(`SELECT 1 FROM template WHERE id = $1 FOR UPDATE`, [template]);
        const call = api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'Письмо', template, name: 'Гонка', contractor: contractorId, masks: { number: '2' } });
        // The constructor has read the template and now waits on that lock with its insert.
        await eventually(async () => {
          const waiting: unknown[] = await ds.query(
            `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO document%' AND datname = current_database()`,
          );
          return waiting.length > 0;
        });
        await qr.query(`DELETE FROM template WHERE id = $1`, [template]);
        await qr.commitTransaction();
        const res = await call;
        expect(res.status).toBe(404);
        expect(await ds.query(`SELECT id FROM document WHERE template_id = $1`, [template])).toEqual([]);
      } finally {
        if (qr.isTransactionActive) await qr.rollbackTransaction();
        await qr.release();
      }
    });
  });

  it('pages the template list as every list (built-ins first, then the newest own ones) and 400s a bad size', async () => {
    const pagedToken = await testToken('doc-tpl-paging');
    const paged = apiClient(gateway.url, pagedToken);
    const ids: string[] = [];
    for (const name of ['Первый', 'Второй', 'Третий']) {
      const html = await upload(gateway.url, pagedToken, 'p.html', '<p>{{contractor.name}}</p>', 'text/html');
      const tpl = await paged<{ uuid: string }>('POST', '/v2/docs/templates', { name, filename: html.body.filename, masks: [] });
      expect(tpl.status).toBe(201);
      ids.unshift(tpl.body.uuid); // newest first
    }
    const all = [...BUILTIN_TEMPLATES.map((t) => t.uuid), ...ids];
    const whole = await paged<{ uuid: string; name: string; filename: string; masks: unknown[]; font: string; createdAt: string }[]>('GET', '/v2/docs/templates');
    expect(whole.status).toBe(200);
    expect(whole.body.map((t) => t.uuid)).toEqual(all);
    expect(whole.body.at(-1)).toEqual(expect.objectContaining({ uuid: ids[2], name: 'Первый', filename: expect.any(String), masks: [], font: 'Arial', createdAt: expect.any(String) }));
    const B = BUILTIN_TEMPLATES.length;
    const page = await paged<{ uuid: string }[]>('GET', `/v2/docs/templates?size=1&page=${B + 2}`);
    expect(page.body.map((t) => t.uuid)).toEqual([ids[1]]);
    expect((await paged<{ uuid: string }[]>('GET', `/v2/docs/templates?limit=2&offset=${B - 1}`)).body.map((t) => t.uuid)).toEqual(all.slice(B - 1, B + 1));
    expect((await paged<{ uuid: string }[]>('GET', `/v2/docs/templates?size=2&page=${B + 5}`)).body).toEqual([]);
    const bad = await paged<{ errors: Record<string, string[]> }>('GET', '/v2/docs/templates?size=abc');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toHaveProperty('size');
  });

  it('changes a status, shows it in the list, deletes by both routes and emits events', async () => {
    const html = await upload(gateway.url, token, 'simple.html', '<p>Акт</p>', 'text/html');
    const made = async () =>
      (await api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'Акт', filename: html.body.filename, name: 'Акт', contractor: contractorId })).body.uuid;
    const a = await made();
    const b = await made();
    expect((await api('POST', `/v2/docs/documents/${a}`, { status: 3 })).status).toBe(200);
    expect((await api('POST', `/v2/docs/documents/${a}`, { status: 9 })).status).toBe(400);
    const signed = await api<DocumentView[]>('GET', '/v2/docs/documents?status=3');
    expect(signed.body.map((d) => d.uuid)).toEqual([a]);
    expect((await api('DELETE', `/v2/docs/documents/${a}`)).status).toBe(200);
    expect((await api('DELETE', `/v2/docs/document/${b}`)).status).toBe(200);
    expect((await download(gateway.url, token, a)).status).toBe(404);
    const events = await readTopic(Topics.documents, (ms) => ms.some((m) => m.key === a && m.value.includes('document.deleted')), 20_000);
    const types = events.filter((m) => m.key === a).map((m) => JSON.parse(m.value).type as string);
    expect(types).toEqual(expect.arrayContaining(['document.created', 'document.status-changed', 'document.deleted']));
  });

  describe('bad input', () => {
    it('415s an executable upload, whatever its name', async () => {
      const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(2000)]);
      expect((await upload(gateway.url, token, 'invoice.pdf', elf)).status).toBe(415);
      expect((await upload(gateway.url, token, 'setup.exe', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(500)]))).status).toBe(415);
    });

    it('413s an upload over the cap and keeps nothing', async () => {
      const before = await documents.get(DataSource).query('SELECT count(*)::int AS n FROM upload');
      const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(400 * 1024, 0x20)]);
      // Several times: refused unread and closed, the connection was reset under the gateway
      // still sending, and now and then the 413 was lost with it (502).
      const statuses = [];
      for (let i = 0; i < 30; i++) statuses.push((await upload(gateway.url, token, 'big.pdf', big)).status);
      expect(statuses).toEqual(statuses.map(() => 413));
      const after = await documents.get(DataSource).query('SELECT count(*)::int AS n FROM upload');
      expect(after[0].n).toBe(before[0].n);
    });

    it("404s another account's document, template and contractor", async () => {
      const other = apiClient(gateway.url, await testToken('doc-other'));
      const mine = (await api<DocumentView[]>('GET', '/v2/docs/documents')).body[0];
      expect((await download(gateway.url, await testToken('doc-other'), mine.uuid)).status).toBe(404);
      expect((await other('POST', `/v2/docs/documents/${mine.uuid}`, { status: 2 })).status).toBe(404);
      expect((await other('DELETE', `/v2/docs/documents/${mine.uuid}`)).status).toBe(404);
      const made = await other('POST', '/v2/docs/constructor', { type: 'x', template: BUILTIN_TEMPLATES[3].uuid, name: 'x', contractor: contractorId, masks: {} });
      expect(made.status).toBe(404);
      expect((await other('GET', `/v2/docs/contractors/${contractorId}/documents`)).status).toBe(404);
    });

    it('400s a template mask with a reserved name (contractor, document, organization, masks), naming masks[i].id', async () => {
      const html = await upload(gateway.url, token, 'reserved.html', '<p>{{number}}</p>', 'text/html');
      const res = await api<{ code: string; errors: Record<string, string[]> }>('POST', '/v2/docs/templates', {
        name: 'Зарезервированные',
        filename: html.body.filename,
        masks: [
          { id: 'number', name: 'Номер', type: 'string' },
          { id: 'contractor', name: 'Контрагент', type: 'string', required: true },
        ],
      });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors)).toEqual(['masks.1.id']);
      expect(res.body.errors['masks.1.id']![0]).toMatch(/reserved/);
    });

    it('400s a constructor call naming an uploaded HTML that does not compile (as a template create does), storing nothing', async () => {
      const bad = await upload(gateway.url, token, 'broken.html', '<p>{{#if paid}}без конца</p>', 'text/html');
      expect(bad.status).toBe(200);
      const before = (await api<DocumentView[]>('GET', '/v2/docs/documents?type=Сломанный')).body.length;
      const res = await api<{ errors: Record<string, string[]> }>('POST', '/v2/docs/constructor', { type: 'Сломанный', filename: bad.body.filename, name: 'x', contractor: contractorId });
      expect(res.status).toBe(400);
      expect(res.body.errors.filename?.[0]).toMatch(/does not compile/);
      expect((await api<DocumentView[]>('GET', '/v2/docs/documents?type=Сломанный')).body).toHaveLength(before);
    });

    it('400s a mask of the wrong type, naming the mask', async () => {
      const invoice = BUILTIN_TEMPLATES.find((t) => t.kind === 'invoice')!;
      const res = await api<{ errors: Record<string, string[]> }>('POST', '/v2/docs/constructor', {
        type: 'Счёт',
        template: invoice.uuid,
        name: 'bad',
        contractor: contractorId,
        masks: { number: '1', lines: [{ title: 'x', measure: 'шт', quantity: 'many', price: 100 }] },
      });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors).join(' ')).toContain('lines');
      const both = await api('POST', '/v2/docs/constructor', { type: 'x', name: 'x', contractor: contractorId });
      expect(both.status).toBe(400);
      const before = (await api<DocumentView[]>('GET', '/v2/docs/documents?size=200')).body.length;
      const late = await api<{ errors: Record<string, string[]> }>('POST', '/v2/docs/constructor', {
        type: 'Счёт',
        template: invoice.uuid,
        name: 'due before date',
        contractor: contractorId,
        masks: { number: '2', date: '2026-06-05', dueDate: '2026-05-01', lines: [{ title: 'x', measure: 'шт', quantity: 1, price: 100 }] },
      });
      expect(late.status).toBe(400);
      expect(Object.keys(late.body.errors)).toEqual(['masks.dueDate']);
      expect((await api<DocumentView[]>('GET', '/v2/docs/documents?size=200')).body).toHaveLength(before);
    });
  });

  describe('faults', () => {
    it('answers 503 to an upload while MinIO is down, leaves no row, and works once it is back', async () => {
      const count = async () => (await documents.get(DataSource).query('SELECT count(*)::int AS n FROM upload'))[0].n as number;
      const before = await count();
      await infra('down', 'minio');
      try {
        const res = await upload(gateway.url, token, 'a.html', '<p>a</p>', 'text/html');
        expect(res.status).toBe(503);
        expect(res.body.code).toBe('STORAGE_UNAVAILABLE');
        expect(await count()).toBe(before);
      } finally {
        await infra('up', 'minio');
      }
      expect((await upload(gateway.url, token, 'a.html', '<p>a</p>', 'text/html')).status).toBe(200);
    });

    it('ends a render whose Chromium was killed in a rendered or failed document, never a stuck one', async () => {
      // This replica's own browser (no other Chromium on the host is touched), killed while both
      // of its pages hold one of these renders and more wait: a table long enough to keep Chromium
      // busy well past the moment the kill lands.
      const pool = documents.get(RenderPoolHost, { strict: false }).pool!;
      const registry = documents.get(Registry, { strict: false });
      const crashedRenders = async () =>
        (await (registry.getSingleMetric('papka_render_duration_seconds') as Histogram<'outcome'>).get()).values.find(
          (v) => v.metricName === 'papka_render_duration_seconds_count' && v.labels.outcome === 'RenderCrashedError',
        )?.value ?? 0;
      const rows = Array.from({ length: 1_200 }, (_, i) => `<tr><td>Row ${i}</td><td>${'Item '.repeat(20)}</td><td>${i * 100},00</td></tr>`).join('');
      const html = await upload(gateway.url, token, 'k.html', `<p>Kill test</p><table>${rows}</table>`, 'text/html');
      expect(html.status).toBe(200);
      const crashedBefore = await crashedRenders();
      const { browserRestarts } = pool.stats();
      const pid = pool.browserPid()!;
      expect(pid).toBeGreaterThan(0);

      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push((await api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'K', filename: html.body.filename, name: `k${i}`, contractor: contractorId })).body.uuid);
      }
      // Killed in the same tick as the pool says every page has a job and one more is queued: a
      // render is in Chromium when it dies. process.kill throws (ESRCH) when no such process lives.
      let killed: unknown;
      await eventually(
        async () => {
          const stats = pool.stats();
          if (stats.pages === 0 || stats.idle > 0 || stats.queued === 0) return false;
          try {
            killed = process.kill(pid, 'SIGKILL');
          } catch (err) {
            killed = err;
          }
          return true;
        },
        30_000,
        5,
      );
      expect(killed).toBe(true);

      const states = await eventually(async () => {
        const list = (await api<DocumentView[]>('GET', '/v2/docs/documents?type=K')).body.filter((d) => ids.includes(d.uuid));
        return list.length === ids.length && list.every((d) => d.renderState !== 'pending') && list.map((d) => d.renderState);
      }, 90_000, 500);
      expect(states).toHaveLength(ids.length);
      expect(states.every((s) => s === 'rendered' || s === 'failed')).toBe(true);
      // The kill did interrupt renders, and the pool replaced that very browser.
      expect(await crashedRenders()).toBeGreaterThan(crashedBefore);
      expect(pool.stats().browserRestarts).toBe(browserRestarts + 1);
      expect(pool.browserPid()).not.toBe(pid);
      // The browser came back: a new document renders.
      const small = await upload(gateway.url, token, 'k2.html', '<p>После падения</p>', 'text/html');
      const again = await api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'K2', filename: small.body.filename, name: 'after', contractor: contractorId });
      expect(again.status).toBe(201);
      await eventually(async () => (await api<DocumentView[]>('GET', '/v2/docs/documents?type=K2')).body.find((d) => d.uuid === again.body.uuid)?.renderState !== 'pending', 60_000, 300);
      const file = await download(gateway.url, token, again.body.uuid);
      expect(file.status).toBe(200);
      expect(await pdfText(file.body)).toContain('После падения');
    });
  });

  it('a replica shut down with renders queued hands them back: another replica renders them at once, not after the stale sweep', async () => {
    const letter = BUILTIN_TEMPLATES.find((t) => t.kind === 'letter')!;
    // A second replica (its own process, the same database and consumer group) whose object
    // storage is unreachable (nothing listens there), so every render it takes waits, retrying,
    // until it is told to stop.
    const { S3_ACCESS_KEY, S3_SECRET_KEY } = infraEnv();
    const second = await startService(
      'documents',
      serviceEnv({
        DATABASE_URL: documentsDb,
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        S3_ACCESS_KEY,
        S3_SECRET_KEY,
        CHROMIUM_PATH: infraEnv().CHROMIUM_PATH,
        RENDER_PAGES: '1',
      }),
    );
    let stopped = false;
    try {
      const direct = apiClient(second.url, token);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const made = await direct<{ uuid: string }>('POST', '/v2/docs/constructor', {
          type: 'Письмо',
          template: letter.uuid,
          name: `Передано ${i}`,
          contractor: contractorId,
          masks: { body: `Письмо ${i}` },
        });
        expect(made.status).toBe(201);
        ids.push(made.body.uuid);
      }
      const since = Date.now();
      await second.stop();
      stopped = true;
      // What the bus holds: a render request for each, written by the replica as it stopped (it made none before: they were its own).
      const requests = await readTopic(Topics.renderRequests, (ms) => ids.every((id) => ms.some((m) => m.key === id)), 30_000, since);
      expect(new Set(requests.map((m) => m.key).filter((k) => ids.includes(k!)))).toEqual(new Set(ids));
      // Every one renders on this suite's replica, well inside RENDER_STALE_MS (120 s): its sweep cannot be what took them.
      const states = await eventually(async () => {
        const rows: { render_state: string }[] = await documents.get(DataSource).query('SELECT render_state FROM document WHERE id = ANY($1)', [ids]);
        return rows.every((r) => r.render_state !== 'pending') && rows.map((r) => r.render_state);
      }, 60_000, 200);
      expect(states).toEqual(ids.map(() => 'rendered'));
      const file = await download(gateway.url, token, ids[ids.length - 1]!);
      expect(file.status).toBe(200);
      expect(await pdfText(file.body)).toContain('Письмо 5');
    } finally {
      if (!stopped) await second.stop();
    }
  });

  it('answers 409 with Retry-After to a download of a document still rendering, after waiting a little', async () => {
    const letter = BUILTIN_TEMPLATES.find((t) => t.kind === 'letter')!;
    const made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
      type: 'Письмо',
      template: letter.uuid,
      name: 'Ещё рендерится',
      contractor: contractorId,
      masks: { body: 'Текст' },
    });
    expect((await download(gateway.url, token, made.body.uuid)).status).toBe(200);
    // Pinned in `pending` as a queued re-render would leave it (renders here take ~100 ms).
    const ds = documents.get(DataSource);
    await ds.query(`UPDATE document SET render_state = 'pending' WHERE id = $1`, [made.body.uuid]);
    const started = Date.now();
    const pending = await download(gateway.url, token, made.body.uuid);
    expect(pending.status).toBe(409);
    expect(pending.headers['retry-after']).toBe('2');
    expect(JSON.parse(pending.body.toString())).toMatchObject({ status: 'ERROR', code: 'RENDER_PENDING' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400); // it waited DOWNLOAD_WAIT_MS first
    // ... and answers as soon as the render lands within that wait
    setTimeout(() => void ds.query(`UPDATE document SET render_state = 'rendered' WHERE id = $1`, [made.body.uuid]), 500);
    expect((await download(gateway.url, token, made.body.uuid)).status).toBe(200);
  });

  it('lists the ready documents and streams one', async () => {
    const list = await api<{ id: number; file: string; title: string }[]>('GET', '/v2/docs/ready');
    expect(list.status).toBe(200);
    expect(list.body.length).toBeGreaterThan(0);
    expect(list.body[0]).toEqual(expect.objectContaining({ id: expect.any(Number), type: expect.any(String), title: expect.any(String), file: expect.any(String), createdAt: expect.any(String) }));
    const res = await request(`${gateway.url}/v2/docs/ready/${list.body[0].id}/download`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect((await res.body.arrayBuffer()).byteLength).toBeGreaterThan(100);
  });
});
