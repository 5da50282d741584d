import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import type { ConnectionView } from '@papka/contracts';
import {
  apiClient,
  baseUrl,
  createTestDatabase,
  dropDatabase,
  serviceEnv,
  startFakeAdesk,
  startService,
  TEST_JWT_SECRET,
  testToken,
  type ApiResponse,
  type FakeAdesk,
  type RunningService,
} from '@papka/testing';
import { bootstrap } from '../src/bootstrap';

/**
 * The finance routes as a user reaches them: through the gateway, to the real finance-sync
 * (its own process, real PostgreSQL and Kafka), against the fake Adesk. Bad input of every
 * kind is a 4xx naming the field, never a 5xx; the webhook needs no bearer token, and its hook
 * token stays out of the logs.
 */
describe('gateway finance routes (gateway + finance-sync + fake Adesk)', () => {
  let adesk: FakeAdesk;
  let db: string;
  let fs: RunningService;
  let gateway: INestApplication;
  let base: string;
  /** Every answer of this suite, to show that none was a 5xx. */
  const answers: { what: string; status: number }[] = [];

  const call = (token?: string) => {
    const api = apiClient(base, token);
    return async <T = unknown>(method: string, path: string, body?: unknown, init?: Parameters<typeof api>[3]): Promise<ApiResponse<T>> => {
      const res = await api<T>(method, path, body, init);
      answers.push({ what: `${method} ${path}`, status: res.status });
      return res;
    };
  };

  beforeAll(async () => {
    adesk = await startFakeAdesk();
    db = await createTestDatabase('gw_finance');
    fs = await startService('finance-sync', serviceEnv({ DATABASE_URL: db, ADESK_API_URL: adesk.url, LOG_LEVEL: 'info', FINANCE_WORKER_POLL_MS: '100' }));
    gateway = await bootstrap({
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      FINANCE_SYNC_URL: fs.url,
    });
    base = baseUrl(gateway);
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await fs?.stop();
    await adesk?.close();
    if (db) await dropDatabase(db);
  });

  it('connects Adesk through the gateway, with a webhook URL that points at the gateway', async () => {
    const api = call(await testToken(`gwf-${randomUUID().slice(0, 8)}`));
    const acct = adesk.addAccount();
    const put = await api<{ status: string; connection: ConnectionView }>('PUT', '/v2/finance/connections/adesk', { token: acct.token });
    expect(put).toMatchObject({ status: 200, body: { status: 'OK', connection: { target: 'adesk', settings: { bankAccountId: acct.bankAccounts()[0]!.id } } } });
    // The gateway passed on the origin the client used (X-Forwarded-Host/Proto), so Adesk is
    // told to call the gateway, not finance-sync's own address.
    const { webhookUrl } = put.body.connection;
    expect(webhookUrl).toMatch(new RegExp(`^${base}/v2/finance/webhooks/adesk/[\\w-]{24,}$`));
    expect(acct.webhooks()).toEqual([expect.objectContaining({ url: webhookUrl })]);

    const list = await api<ConnectionView[]>('GET', '/v2/finance/connections');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([expect.objectContaining({ target: 'adesk', webhookUrl, counts: expect.any(Object) })]);
    expect(JSON.stringify(list.body)).not.toContain(acct.token);

    // A second account does not see it.
    expect((await call(await testToken(`gwf-${randomUUID().slice(0, 8)}`))('GET', '/v2/finance/connections')).body).toEqual([]);
  }, 60_000);

  it('answers bad input with a 4xx naming the field', async () => {
    const api = call(await testToken(`gwf-${randomUUID().slice(0, 8)}`));
    // An unknown target; a known one without a token.
    expect((await api('PUT', '/v2/finance/connections/nope', { token: 'x' })).status).toBe(404);
    expect((await api('PUT', '/v2/finance/connections/moysklad', {})).status).toBe(400);
    expect((await api('DELETE', '/v2/finance/connections/nope')).status).toBe(404);
    expect((await api('GET', '/v2/finance/reconciliation/nope?from=2025-01-01&to=2025-01-31')).status).toBe(404);
    // Adesk, but not connected: nothing to reconcile with.
    expect((await api('GET', '/v2/finance/reconciliation/adesk?from=2025-01-01&to=2025-01-31')).status).toBe(404);
    // A bad body.
    expect(await api('PUT', '/v2/finance/connections/adesk', { token: 5 })).toMatchObject({ status: 400, body: { errors: { token: expect.any(Array) } } });
    expect(await api('PUT', '/v2/finance/connections/adesk', {})).toMatchObject({ status: 400, body: { errors: { token: expect.any(Array) } } });
    expect((await api('PUT', '/v2/finance/connections/adesk', undefined, { raw: '{"token":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    // A token Adesk refuses: 400 naming token, nothing stored.
    expect(await api('PUT', '/v2/finance/connections/adesk', { token: 'not-an-adesk-token' })).toMatchObject({ status: 400, body: { code: 'INVALID_CREDENTIALS', errors: { token: expect.any(Array) } } });
    expect((await api('GET', '/v2/finance/connections')).body).toEqual([]);
    // Malformed ids and filters.
    expect(await api('GET', '/v2/finance/records?entityId=123')).toMatchObject({ status: 400, body: { errors: { entityId: expect.any(Array) } } });
    expect(await api('GET', '/v2/finance/records?state=weird')).toMatchObject({ status: 400, body: { errors: { state: expect.any(Array) } } });
    expect(await api('POST', '/v2/finance/records/retry', { target: 'adesk', ids: ['not-a-uuid'] })).toMatchObject({ status: 400, body: { errors: expect.any(Object) } });
    expect(await api('GET', '/v2/finance/reconciliation/adesk?from=2025-13&to=2025-01-01')).toMatchObject({ status: 400, body: { errors: { from: expect.any(Array) } } });
    // An unknown finance path, and a wrong verb.
    expect((await api('GET', '/v2/finance/nope')).status).toBe(404);
    expect((await api('POST', '/v2/finance/connections')).status).toBe(405);
  }, 60_000);

  it('takes the webhook without a bearer token, refuses garbage with a 4xx, and keeps the hook token out of the logs', async () => {
    const api = call(await testToken(`gwf-${randomUUID().slice(0, 8)}`));
    const acct = adesk.addAccount();
    const { webhookUrl } = (await api<{ connection: ConnectionView }>('PUT', '/v2/finance/connections/adesk', { token: acct.token })).body.connection;
    const path = new URL(webhookUrl!).pathname;
    const hookToken = path.split('/').at(-1)!;
    const hook = call(); // no Authorization header, as Adesk sends it
    const envelope = { eventTimestamp: new Date().toISOString(), eventType: 'transaction.created', eventId: randomUUID(), data: [] };

    // Reaches finance-sync, which answers it: accepted, and again when redelivered.
    expect(await hook('POST', path, envelope)).toMatchObject({ status: 200, body: { status: 'OK' } });
    expect(await hook('POST', path, envelope)).toMatchObject({ status: 200, body: { status: 'OK' } });
    expect((await hook('POST', '/v2/finance/webhooks/adesk/not-a-known-hook-token', envelope)).status).toBe(404);
    // Garbage and oversized bodies: finance-sync's cap (256 KiB) and the gateway's (1 MiB).
    expect(await hook('POST', path, { ...envelope, data: 'nope' })).toMatchObject({ status: 400, body: { errors: { data: expect.any(Array) } } });
    expect(await hook('POST', path, { ...envelope, eventId: undefined })).toMatchObject({ status: 400, body: { errors: { eventId: expect.any(Array) } } });
    expect(await hook('POST', path, { ...envelope, eventId: randomUUID(), data: [{ id: 'x' }] })).toMatchObject({ status: 400, body: { errors: { 'data.0.id': expect.any(Array) } } });
    expect((await hook('POST', path, undefined, { raw: '{not json', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await hook('POST', path, undefined, { raw: Buffer.from([0xff, 0x00, 0x13]), headers: { 'content-type': 'application/octet-stream' } })).status).toBeGreaterThanOrEqual(400);
    expect((await hook('POST', path, { ...envelope, data: [{ id: 1, pad: 'x'.repeat(300 * 1024) }] })).status).toBe(413);
    expect((await hook('POST', path, { ...envelope, data: [{ id: 1, pad: 'x'.repeat(2 * 1024 * 1024) }] })).status).toBe(413);
    // Only the webhook is public: the other finance routes still need the token.
    for (const [method, p] of [['GET', '/v2/finance/connections'], ['PUT', '/v2/finance/connections/adesk'], ['GET', '/v2/finance/records'], ['GET', path]] as const) {
      expect({ route: `${method} ${p}`, status: (await hook(method, p)).status }).toEqual({ route: `${method} ${p}`, status: 401 });
    }

    // finance-sync logged these requests (LOG_LEVEL info), never with the hook token.
    const log = readFileSync(fs.logFile, 'utf8');
    expect(log).toContain('/v2/finance/webhooks/adesk/[redacted]');
    expect(log).not.toContain(hookToken);
  }, 60_000);

  it('documents the finance routes, the webhook without bearer auth', async () => {
    const doc = await call()<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>('GET', '/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.paths['/v2/finance/webhooks/adesk/{hookToken}']?.post?.security).toEqual([]);
    expect(doc.body.paths['/v2/finance/connections/{target}']?.put).toBeDefined();
    expect(doc.body.paths['/v2/finance/connections/{target}']?.put?.security).not.toEqual([]);
  });

  // Last (Jest runs a file's tests in order): no answer above was a 5xx.
  it('answered no request with a 5xx', () => {
    expect(answers.length).toBeGreaterThan(30);
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
  });
});
