import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { InteractionView } from '@papka/contracts';
import { Client } from 'pg';
import { Topics, type ConnectionView } from '@papka/contracts';
import {
  apiClient,
  createTestDatabase,
  dadataEnv,
  dropDatabase,
  eventually,
  FIXTURE_ACCOUNT_NUMBER,
  FIXTURE_BIK,
  readTopic,
  s3Env,
  serviceEnv,
  testToken,
  topicEnds,
  startFakeAdesk,
  startFakeDadata,
  startService,
  type FakeAdesk,
  type FakeAdeskAccount,
  type RunningService,
} from '@papka/testing';
import {
  fastEngineEnv,
  accountNumber,
  BIK,
  contractor,
  contractorEvent,
  documentAttachedEvent,
  documentEvent,
  documentSnapshot,
  innOf,
  interaction,
  interactionEvent,
  payment,
  paymentEvent,
  Producers,
  records,
  rubles,
  settled,
  tenant,
  type Tenant,
} from './harness';

/**
 * finance-sync against the fake Adesk on the real Kafka and PostgreSQL. Producer events are
 * published exactly as the contractors and interactions services publish them (so a test can
 * put a payment before its contractor); everything is asserted on what the fake holds at the end.
 */
describe('finance-sync with Adesk (PostgreSQL + Kafka + fake Adesk)', () => {
  let adesk: FakeAdesk;
  let db: string;
  let fs: RunningService;
  const producers = new Producers();
  const base = () => fs.url;
  /** Per partition of each input topic, where this suite started: "offsets reset to the start" goes back here. */
  let startOffsets: { topic: string; partitions: { partition: number; offset: string }[] }[] = [];

  const BACKOFF_MS = [400, 800, 1600];
  const startFinance = () =>
    startService(
      'finance-sync',
      serviceEnv(
        fastEngineEnv({
          DATABASE_URL: db,
          ADESK_API_URL: adesk.url,
          FINANCE_RATE_BACKOFF_MS: BACKOFF_MS.join(','),
          FINANCE_HTTP_TIMEOUT_MS: '3000',
          FINANCE_LEASE_MS: '2000',
        }),
      ),
    );

  const sql = async <T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> => {
    const client = new Client({ connectionString: db });
    await client.connect();
    try {
      return (await client.query(query, params)).rows as T[];
    } finally {
      await client.end();
    }
  };

  const connect = async (t: Tenant, settings: Record<string, unknown> = {}, acct: FakeAdeskAccount = adesk.addAccount()) => {
    const res = await t.api<{ status: string; connection: ConnectionView }>('PUT', '/v2/finance/connections/adesk', { token: acct.token, settings });
    expect(res.status).toBe(200);
    return { acct, connection: res.body.connection };
  };

  const connection = async (t: Tenant) => (await t.api<ConnectionView[]>('GET', '/v2/finance/connections')).body[0]!;
  const record = async (t: Tenant, entityId: string) => (await records(t.api, `entityId=${entityId}`))[0];

  beforeAll(async () => {
    adesk = await startFakeAdesk({ webhookClock: 1000 });
    db = await createTestDatabase('finance_sync');
    await producers.connect();
    startOffsets = await topicEnds([Topics.contractors, Topics.interactions]);
    fs = await startFinance();
  }, 120_000);

  afterAll(async () => {
    await fs?.stop();
    await producers.close();
    await adesk?.close();
    if (db) await dropDatabase(db);
  });

  afterEach(async () => {
    await adesk.clearFaults();
  });

  it('7: a payment that arrives before its contractor is parked, then synced with its links', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const c = contractor('ООО «Ромашка»', { inn: innOf(7), kpp: '770101001' });
    const i = interaction(c, 'Разработка сайта', 1_500_050);
    const p = payment(1_234_567, '2025-03-04');
    // The payment event carries its interaction; the contractor's event has not come yet.
    await producers.sendMany([paymentEvent(t.accountId, i, p)]);
    await eventually(async () => (await record(t, p.uuid))?.state === 'parked', 30_000);
    expect((await record(t, i.uuid))?.state).toBe('parked');
    expect(acct.transactions()).toEqual([]);

    await producers.sendMany([contractorEvent(t.accountId, c)]);
    const synced = await eventually(async () => ((await record(t, p.uuid))?.state === 'synced' ? record(t, p.uuid) : null), 30_000);

    const [ac] = acct.contractors();
    const [pr] = acct.projects();
    expect(acct.contractors()).toHaveLength(1);
    expect(acct.requisites()).toEqual([
      expect.objectContaining({ contractorId: ac!.id, inn: innOf(7), kpp: '770101001', bankAccountNumber: c.bankInfo[0]!.number, bankCode: BIK }),
    ]);
    expect(acct.projects()).toEqual([expect.objectContaining({ type: 'deal', name: 'Разработка сайта', planIncome: '15000.50', dealContractorId: ac!.id })]);
    expect(acct.transactions()).toEqual([
      expect.objectContaining({
        type: 'income',
        amount: '12345.67',
        date: '2025-03-04',
        bankAccountId: acct.bankAccounts()[0]!.id,
        contractorId: ac!.id,
        projectId: pr!.id,
        importedId: expect.stringMatching(new RegExp(`^papka:[0-9a-f]{8}:${p.uuid}$`)),
        description: expect.stringContaining(`[papka:${p.uuid}]`),
      }),
    ]);
    expect(synced).toMatchObject({ target: 'adesk', entityType: 'payment', state: 'synced', remoteId: String(acct.transactions()[0]!.id), lastError: null });
  }, 60_000);

  it('8: a payment Adesk refuses for good is failed with its message, the others sync, and a retry after the fix syncs it', async () => {
    const t = await tenant(base);
    const acct = adesk.addAccount();
    const income = acct.categories().find((x) => x.type === 1)!;
    const outcome = acct.categories().find((x) => x.type === 2)!;
    // The user picked an income category for outcome transactions: Adesk refuses those.
    await connect(t, { incomeCategoryId: income.id, outcomeCategoryId: income.id }, acct);
    const c = contractor('ООО «Вектор»', { inn: innOf(8) });
    const i = interaction(c, 'Поставка', 10_000_00);
    const good = [payment(100_00, '2025-04-01'), payment(200_00, '2025-04-02'), payment(300_00, '2025-04-03')];
    const bad = payment(50_00, '2025-04-02', 'outcome');
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), ...[good[0]!, bad, good[1]!, good[2]!].map((p) => paymentEvent(t.accountId, i, p))]);

    const list = await settled(t.api, 6, 60_000);
    const failed = list.filter((r) => r.state === 'failed');
    expect(failed).toEqual([expect.objectContaining({ entityId: bad.uuid, lastError: expect.stringContaining('category type does not match'), remoteId: null })]);
    expect(acct.transactions().map((x) => x.amount).sort()).toEqual(['100.00', '200.00', '300.00']);

    await connect(t, { incomeCategoryId: income.id, outcomeCategoryId: outcome.id }, acct);
    const retry = await t.api('POST', '/v2/finance/records/retry', { target: 'adesk', state: 'failed' });
    expect(retry).toMatchObject({ status: 200, body: { status: 'OK', queued: 1 } });
    await eventually(async () => (await record(t, bad.uuid))?.state === 'synced', 30_000);
    expect(acct.transactions()).toHaveLength(4);
    expect(acct.transactions().find((x) => x.type === 'outcome')).toMatchObject({ amount: '50.00', categoryId: outcome.id });
  }, 90_000);

  it('10: a bad token is a 400 naming token with nothing stored; other accounts see nothing; the token is in no answer, log or event', async () => {
    const t = await tenant(base);
    const other = await tenant(base);
    const bad = await t.api('PUT', '/v2/finance/connections/adesk', { token: 'not-an-adesk-token' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_CREDENTIALS', errors: { token: [expect.any(String)] } } });
    expect((await t.api('GET', '/v2/finance/connections')).body).toEqual([]);
    expect((await sql(`SELECT 1 FROM finance_connection WHERE account_id = $1`, [t.accountId])).length).toBe(0);
    // Bad input is a 4xx naming the field, never a 5xx.
    // (Issue 9 had `moysklad` here, a target without a connector then; every known target has one now.)
    expect((await t.api('PUT', '/v2/finance/connections/quickbooks', { token: 'x' })).status).toBe(404);
    expect((await t.api('PUT', '/v2/finance/connections/nope', { token: 'x' })).status).toBe(404);
    expect(await t.api('PUT', '/v2/finance/connections/adesk', { token: 5 })).toMatchObject({ status: 400, body: { errors: { token: expect.any(Array) } } });
    expect(await t.api('PUT', '/v2/finance/connections/adesk', { token: 'x', settings: { bankAccountId: 'abc' } })).toMatchObject({ status: 400 });
    expect(await t.api('GET', '/v2/finance/records?state=weird')).toMatchObject({ status: 400, body: { errors: { state: expect.any(Array) } } });
    expect(await t.api('GET', '/v2/finance/records?entityId=123')).toMatchObject({ status: 400, body: { errors: { entityId: expect.any(Array) } } });
    expect(await t.api('GET', '/v2/finance/reconciliation/adesk?from=2025-13&to=2025-01-01')).toMatchObject({ status: 400, body: { errors: { from: expect.any(Array) } } });

    const { acct, connection: conn } = await connect(t);
    expect(JSON.stringify(conn)).not.toContain(acct.token);
    expect(conn).toMatchObject({ target: 'adesk', reason: null, settings: { bankAccountId: acct.bankAccounts()[0]!.id }, webhookUrl: expect.stringMatching(/\/v2\/finance\/webhooks\/adesk\/[\w-]{24,}$/) });
    const c = contractor('ИП Петров', { inn: innOf(10) });
    await producers.sendMany([contractorEvent(t.accountId, c)]);
    await eventually(async () => (await record(t, c.uuid))?.state === 'synced', 30_000);

    expect((await other.api('GET', '/v2/finance/connections')).body).toEqual([]);
    expect(await records(other.api)).toEqual([]);
    expect(await records(other.api, `entityId=${c.uuid}`)).toEqual([]);
    expect((await other.api('DELETE', '/v2/finance/connections/adesk')).status).toBe(404);
    expect((await other.api('GET', '/v2/finance/reconciliation/adesk?from=2025-01-01&to=2025-12-31')).status).toBe(404);
    expect((await other.api('POST', '/v2/finance/records/retry', { target: 'adesk', ids: [c.uuid] })).body).toMatchObject({ queued: 0 });

    const answers = [await t.api('GET', '/v2/finance/connections'), await t.api('GET', '/v2/finance/records')];
    for (const a of answers) expect(JSON.stringify(a.body)).not.toContain(acct.token);
    const [row] = await sql<{ token_cipher: string }>(`SELECT token_cipher FROM finance_connection WHERE account_id = $1`, [t.accountId]);
    expect(row!.token_cipher).toMatch(/^v1\.dev\./);
    expect(row!.token_cipher).not.toContain(acct.token);
    // Checks each message once as it arrives (a rescan per message is quadratic on a long topic).
    let seen = false;
    const events = await readTopic(Topics.finance, (m) => (seen ||= m[m.length - 1]!.value.includes(c.uuid)), 60_000);
    expect(events.some((x) => x.value.includes(c.uuid) && x.value.includes('finance.record.synced'))).toBe(true);
    expect(events.filter((x) => x.value.includes(acct.token))).toEqual([]);
    expect(readFileSync(fs.logFile, 'utf8')).not.toContain(acct.token);
    expect(readFileSync(fs.logFile, 'utf8')).not.toContain('not-an-adesk-token');
  }, 90_000);

  it('1: 500 payments over 50 contractors and 20 deals through 30 % commit-then-drop and 10 % body-coded 500s: each exactly once, right, and reconciled', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const contractors = Array.from({ length: 50 }, (_, n) => contractor(`ООО «Поставщик ${n}»`, { inn: innOf(1000 + n), kpp: n % 2 ? '770101001' : null }));
    const deals = Array.from({ length: 20 }, (_, n) => interaction(contractors[n % 50]!, `Сделка ${n}`, 100_000_00 + n));
    const payments = Array.from({ length: 500 }, (_, n) => ({
      deal: deals[n % 20]!,
      p: payment(1 + n * 10_001, `2025-05-${String(1 + (n % 10)).padStart(2, '0')}`, n % 7 === 0 ? 'outcome' : 'income'),
    }));
    adesk.setCommitThenDrop(0.3, 'reset');
    // Adesk's own body-coded 500 ({ success: false, code: 500 }): it says no more than the status.
    adesk.setServerErrors(0.1, 'after', 'json');
    await producers.sendMany([
      ...contractors.map((c) => contractorEvent(t.accountId, c)),
      ...deals.map((d) => interactionEvent(t.accountId, d)),
      ...payments.map(({ deal, p }) => paymentEvent(t.accountId, deal, p)),
    ]);
    const list = await settled(t.api, 570, 150_000, ['synced']);
    expect(list.filter((r) => r.state !== 'synced')).toEqual([]);
    await adesk.clearFaults();
    // The faults did happen: creates were applied and their answers lost, and 5xx came back.
    expect(adesk.calls({ outcome: 'dropped' }).filter((x) => x.committed).length).toBeGreaterThan(10);
    expect(adesk.calls({ outcome: 'server-error' }).length).toBeGreaterThan(10);

    expect(acct.contractors()).toHaveLength(50);
    expect(new Set(acct.contractors().map((c) => c.name)).size).toBe(50);
    expect(acct.requisites()).toHaveLength(50);
    expect(acct.requisites().map((r) => r.inn).sort()).toEqual(contractors.map((c) => c.mainInfo.inn).sort());
    expect(acct.projects()).toHaveLength(20);
    const txs = acct.transactions();
    expect(txs).toHaveLength(500);
    const byImported = new Map(txs.map((x) => [x.importedId.split(':')[2], x]));
    expect(byImported.size).toBe(500);
    const contractorIdByName = new Map(acct.contractors().map((c) => [c.name, c.id]));
    const projectIdByName = new Map(acct.projects().map((p) => [p.name, p.id]));
    for (const { deal, p } of payments) {
      const x = byImported.get(p.uuid);
      const owner = contractors.find((c) => c.uuid === deal.contractorId)!;
      expect({ amount: x?.amount, date: x?.date, type: x?.type, contractorId: x?.contractorId, projectId: x?.projectId }).toEqual({
        amount: rubles(p.sum),
        date: p.date,
        type: p.type,
        contractorId: contractorIdByName.get(owner.mainInfo.name),
        projectId: projectIdByName.get(deal.name),
      });
    }
    const report = await t.api('GET', '/v2/finance/reconciliation/adesk?from=2025-05-01&to=2025-05-31');
    expect(report).toMatchObject({ status: 200, body: { missingRemote: [], extraRemote: [], mismatched: [], duplicates: [] } });
  }, 200_000);

  it('2: Adesk unreachable for a while: everything recorded meanwhile arrives once afterwards', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    await adesk.setDown(true);
    const c = contractor('ООО «Ночь»', { inn: innOf(2) });
    const i = interaction(c, 'Пока лежит', 5_000_00);
    const ps = [payment(111_11, '2025-06-01'), payment(222_22, '2025-06-02')];
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), ...ps.map((p) => paymentEvent(t.accountId, i, p))]);
    // The contractor was tried and is waiting, without a counted attempt.
    await eventually(async () => {
      const r = await record(t, c.uuid);
      return r?.state === 'pending' && r.lastError !== null;
    }, 30_000);
    expect((await record(t, c.uuid))?.attempts).toBe(0);
    await adesk.setDown(false);
    await settled(t.api, 4, 60_000, ['synced']);
    expect(acct.contractors()).toHaveLength(1);
    expect(acct.projects()).toHaveLength(1);
    expect(acct.transactions().map((x) => x.amount).sort()).toEqual(['111.11', '222.22']);
  }, 90_000);

  it('3: a 429 block on bulk create: contractors and deals keep flowing, one call per back-off step, all drains after', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    adesk.blockMethod('/v2/transactions/create', Infinity);
    const cs = [contractor('ООО «Один»', { inn: innOf(31) }), contractor('ООО «Два»', { inn: innOf(32) })];
    const ds = cs.map((c, n) => interaction(c, `Блок ${n}`, 1_000_00));
    const ps = Array.from({ length: 6 }, (_, n) => ({ d: ds[n % 2]!, p: payment(10_00 + n, '2025-07-01') }));
    await producers.sendMany([...cs.map((c) => contractorEvent(t.accountId, c)), ...ds.map((d) => interactionEvent(t.accountId, d)), ...ps.map(({ d, p }) => paymentEvent(t.accountId, d, p))]);
    await eventually(async () => {
      const list = await records(t.api);
      return list.filter((r) => r.entityType !== 'payment' && r.state === 'synced').length === 4;
    }, 30_000);
    expect(acct.contractors()).toHaveLength(2);
    expect(acct.projects()).toHaveLength(2);
    // Three blocked calls: the first try and the probes after the first two back-off steps.
    const blocked = await eventually(async () => {
      const calls = adesk.calls({ path: '/v2/transactions/create', outcome: 'rate-limited' });
      return calls.length >= 3 ? calls : null;
    }, 30_000);
    adesk.unblockMethod('/v2/transactions/create');
    for (let n = 1; n < blocked.length; n++) {
      const step = BACKOFF_MS[Math.min(n - 1, BACKOFF_MS.length - 1)]!;
      expect(blocked[n]!.at - blocked[n - 1]!.at).toBeGreaterThanOrEqual(step);
    }
    await settled(t.api, 10, 30_000, ['synced']);
    expect(acct.transactions()).toHaveLength(6);
  }, 90_000);

  it('4: payment required pauses the connection, loses nothing, and it resumes by itself', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    acct.setPaymentRequired(true);
    const c = contractor('ООО «Должник»', { inn: innOf(4) });
    const i = interaction(c, 'Без подписки', 2_000_00);
    const p = payment(42_00, '2025-08-01');
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), paymentEvent(t.accountId, i, p)]);
    await eventually(async () => {
      const conn = await connection(t);
      return conn.state === 'paused' && conn.reason === 'payment_required';
    }, 30_000);
    expect(acct.contractors()).toEqual([]);
    acct.setPaymentRequired(false);
    await settled(t.api, 3, 30_000, ['synced']);
    expect(await connection(t)).toMatchObject({ state: 'active', reason: null, counts: { synced: 3, pending: 0, failed: 0, parked: 0 } });
    expect(acct.transactions()).toEqual([expect.objectContaining({ amount: '42.00' })]);
  }, 60_000);
  it('9: webhooks: an Adesk transaction on a mapped deal becomes one Papka payment (twice, out of order); the echo creates nothing; a deleted one goes; unknown hook token 404', async () => {
    const t = await tenant(base);
    // The real contractors and interactions services this time: their own events, their API.
    const dadata = await startFakeDadata();
    const contractorsDb = await createTestDatabase('fs_contractors');
    const interactionsDb = await createTestDatabase('fs_interactions');
    const services = await Promise.allSettled([
      startService('contractors', serviceEnv({ DATABASE_URL: contractorsDb, ...dadataEnv(dadata) })),
      startService('interactions', serviceEnv({ ...s3Env(), DATABASE_URL: interactionsDb, REPLICA_WAIT_MS: '10000' })),
    ]);
    try {
      for (const r of services) if (r.status === 'rejected') throw r.reason;
      const [contractorsSvc, interactions] = services.map((r) => (r as PromiseFulfilledResult<RunningService>).value) as [RunningService, RunningService];
      const token = await testToken(t.accountId);
      const papka = apiClient(interactions.url, token);
      const people = apiClient(contractorsSvc.url, token);
      const { acct, connection: conn } = await connect(t);
      expect(acct.webhooks()).toEqual([expect.objectContaining({ url: conn.webhookUrl, events: expect.arrayContaining(['transaction.created', 'transaction.deleted']) })]);
      const created = await people<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 2, inn: '7707083893', name: 'ПАО Сбербанк', address: 'г Москва, ул Вавилова, д 19' });
      expect(created.status).toBe(201);
      expect((await people('POST', `/v2/docs/contractors/${created.body.uuid}/bank`, { bik: FIXTURE_BIK, number: FIXTURE_ACCOUNT_NUMBER })).status).toBeLessThan(300);
      const c = { uuid: created.body.uuid };
      await eventually(async () => acct.requisites().some((r) => r.bankAccountNumber === FIXTURE_ACCOUNT_NUMBER), 30_000);
      expect(acct.requisites()).toHaveLength(1);
      // From the contractors service's own events: INN, KPP (fullInfo.data.kpp), BIK and the 20-digit number as strings.
      expect(acct.requisites()[0]).toMatchObject({ inn: '7707083893', kpp: '773601001', bankCode: FIXTURE_BIK, bankAccountNumber: FIXTURE_ACCOUNT_NUMBER });
      expect(acct.contractors()).toEqual([expect.objectContaining({ name: 'ПАО Сбербанк' })]);
      const made = await papka<{ uuid: string }>('POST', '/v2/docs/interactions', { contractor: c.uuid, name: 'Сделка с вебхуками', sum: 5000 });
      expect(made.status).toBe(201);
      const id = made.body.uuid;
      await eventually(async () => (await record(t, id))?.state === 'synced', 30_000);
      const project = acct.projects()[0]!;

      // Papka's own payment: synced once; its webhook (an echo) imports nothing.
      const own = await papka<{ uuid: string }>('POST', `/v2/docs/interactions/${id}/payments`, { type: 'income', name: 'Аванс', sum: 100.5, date: '2025-09-01' });
      expect(own.status).toBe(201);
      await eventually(async () => (await record(t, own.body.uuid))?.state === 'synced', 30_000);
      await adesk.webhooksSettled();

      // Made in Adesk, each event delivered twice, the later one first.
      adesk.setWebhookDuplicates(2);
      adesk.holdWebhooks();
      const a = acct.createTransactionInAdesk({ type: 'income', amount: '777.70', date: '2025-09-02', projectId: project.id });
      const b = acct.createTransactionInAdesk({ type: 'outcome', amount: 50, date: '2025-09-03', projectId: project.id, description: 'Возврат' });
      adesk.releaseWebhooks('lifo');
      await adesk.webhooksSettled();
      const view = await eventually(async () => {
        const v = (await papka<InteractionView>('GET', `/v2/docs/interactions/${id}`)).body;
        return v.payments.length === 3 ? v : null;
      }, 30_000);
      expect(view.payments.map((p) => [p.type, p.sum, p.date]).sort()).toEqual([
        ['income', 100.5, '2025-09-01'],
        ['income', 777.7, '2025-09-02'],
        ['outcome', 50, '2025-09-03'],
      ]);
      // Every delivery was answered exactly 200, the duplicates included.
      const deliveries = adesk.deliveries({ eventType: 'transaction.created' }).filter((d) => [a.id, b.id].includes(Number(d.body.data[0]?.id)));
      expect(deliveries.length).toBeGreaterThanOrEqual(4);
      expect(deliveries.every((d) => d.status === 200)).toBe(true);
      // The imported payments reached finance-sync's read model and were not pushed back.
      const imported = view.payments.filter((p) => p.uuid !== own.body.uuid).map((p) => p.uuid);
      await eventually(async () => (await sql(`SELECT 1 FROM payment_replica WHERE id = ANY($1::uuid[])`, [imported])).length === 2, 30_000);
      expect(acct.transactions()).toHaveLength(3);
      expect(acct.transactions().filter((x) => x.source === 'api-v2')).toHaveLength(1);
      expect((await Promise.all(imported.map((u) => record(t, u)))).map((r) => r?.remoteId).sort()).toEqual([String(a.id), String(b.id)].sort());

      // Deleted in Adesk: the payment goes in Papka, and nothing more happens in Adesk.
      acct.deleteTransactionInAdesk(a.id);
      await adesk.webhooksSettled();
      await eventually(async () => (await papka<InteractionView>('GET', `/v2/docs/interactions/${id}`)).body.payments.length === 2, 30_000);
      expect(acct.transactions()).toHaveLength(2);

      const envelope = { eventTimestamp: new Date().toISOString(), eventType: 'transaction.created', eventId: '0b1f3f1e-7a7c-4b0e-9c1b-1d2e3f4a5b6c', data: [{ id: a.id }] };
      const hook = apiClient(fs.url);
      expect((await hook('POST', '/v2/finance/webhooks/adesk/not-a-known-token', envelope)).status).toBe(404);
      const path = new URL(conn.webhookUrl!).pathname;
      expect(await hook('POST', path, { ...envelope, data: 'nope' })).toMatchObject({ status: 400, body: { errors: { data: expect.any(Array) } } });
      expect(await hook('POST', path, { ...envelope, data: [{ id: 'x' }] })).toMatchObject({ status: 400, body: { errors: { 'data.0.id': expect.any(Array) } } });
      expect((await hook('POST', path, undefined, { raw: '{not json', headers: { 'content-type': 'application/json' } })).status).toBe(400);
      expect((await hook('POST', path, { ...envelope, data: [{ id: 1, pad: 'x'.repeat(300 * 1024) }] })).status).toBe(413);
    } finally {
      for (const r of services) if (r.status === 'fulfilled') await r.value.stop();
      await dadata.close();
      await dropDatabase(interactionsDb);
      await dropDatabase(contractorsDb);
    }
  }, 150_000);

  it('6: every snapshot re-announced and the offsets reset to the start: no new remote object, no remote update', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const cs = [contractor('ООО «Анонс 1»', { inn: innOf(61) }), contractor('ООО «Анонс 2»', { inn: innOf(62), banks: 2 })];
    const ds = cs.map((c, n) => interaction(c, `Анонс ${n}`, 7_000_00));
    const ps = Array.from({ length: 4 }, (_, n) => ({ d: ds[n % 2]!, p: payment(5_00 + n, '2025-10-01') }));
    await producers.sendMany([...cs.map((c) => contractorEvent(t.accountId, c)), ...ds.map((d) => interactionEvent(t.accountId, d)), ...ps.map(({ d, p }) => paymentEvent(t.accountId, d, p))]);
    await settled(t.api, 8, 30_000, ['synced']);
    const holds = () => ({ contractors: acct.contractors(), requisites: acct.requisites(), projects: acct.projects(), transactions: acct.transactions() });
    const before = holds();
    const writes = adesk.calls({ method: 'POST' }).length;

    await producers.sendMany([
      ...cs.map((c) => contractorEvent(t.accountId, c, 'contractor.snapshot')),
      ...ds.map((d) => interactionEvent(t.accountId, d, 'interaction.updated')),
      ...ps.map(({ d, p }) => paymentEvent(t.accountId, d, p)),
    ]);
    await fs.stop();
    const admin = producers.admin();
    await admin.connect();
    try {
      for (const { topic, partitions } of startOffsets) await admin.setOffsets({ groupId: 'finance-sync', topic, partitions });
      fs = await startFinance();
      // Caught up: the group's committed offsets reach the end of both topics.
      await eventually(async () => {
        for (const topic of [Topics.contractors, Topics.interactions]) {
          const ends = await admin.fetchTopicOffsets(topic);
          const [group] = await admin.fetchOffsets({ groupId: 'finance-sync', topics: [topic] });
          for (const e of ends) if (Number(group!.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) < Number(e.high)) return false;
        }
        return true;
      }, 60_000, 250);
    } finally {
      await admin.disconnect();
    }
    expect(await records(t.api)).toHaveLength(8);
    expect((await records(t.api)).every((r) => r.state === 'synced')).toBe(true);
    expect(adesk.calls({ method: 'POST' }).length).toBe(writes);
    expect(holds()).toEqual(before);

    // A real change is an update of the same remote objects, never a new one.
    const renamed = { ...cs[0]!, mainInfo: { ...cs[0]!.mainInfo, name: 'ООО «Анонс 1» (новое имя)' } };
    const resized = { ...ds[1]!, name: 'Анонс 1, этап 2', sum: 9_000_50 };
    await producers.sendMany([contractorEvent(t.accountId, renamed, 'contractor.updated'), interactionEvent(t.accountId, resized, 'interaction.updated')]);
    await eventually(async () => acct.contractors().some((x) => x.name === renamed.mainInfo.name) && acct.projects().some((x) => x.name === resized.name), 30_000);
    expect(acct.contractors()).toHaveLength(2);
    expect(acct.projects()).toHaveLength(2);
    expect(acct.projects().find((x) => x.name === resized.name)).toMatchObject({ planIncome: '9000.50', id: before.projects.find((x) => x.name === ds[1]!.name)!.id });
    // The same requisites objects, the renamed one's legal name updated with it.
    expect(acct.requisites().map((r) => r.id)).toEqual(before.requisites.map((r) => r.id));
    expect(acct.requisites().filter((r) => r.name === renamed.mainInfo.name)).toHaveLength(1);
    expect(acct.transactions()).toEqual(before.transactions);
  }, 120_000);

  it('5: finance-sync killed (SIGKILL) in the middle of a bulk create, then restarted: no duplicates', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const c = contractor('ООО «Крах»', { inn: innOf(5) });
    const d = interaction(c, 'Посреди пачки', 1_000_000_00);
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, d)]);
    await settled(t.api, 2, 30_000, ['synced']);
    // Every write is applied and never answered: the bulk call hangs until the process dies.
    adesk.setCommitThenDrop(1, 'stall');
    const ps = Array.from({ length: 150 }, (_, n) => payment(1_00 + n, `2025-11-0${1 + (n % 3)}`));
    await producers.sendMany(ps.map((p) => paymentEvent(t.accountId, d, p)));
    await eventually(async () => adesk.calls({ path: '/v2/transactions/create', outcome: 'stalled' }).length > 0, 30_000, 20);
    process.kill(fs.pid, 'SIGKILL');
    await fs.stop();
    expect(acct.transactions().length).toBeGreaterThan(0);
    await adesk.clearFaults();
    fs = await startFinance();
    await settled(t.api, 152, 60_000, ['synced']);
    const txs = acct.transactions();
    expect(txs).toHaveLength(150);
    expect(new Set(txs.map((x) => x.importedId)).size).toBe(150);
    const report = await t.api('GET', '/v2/finance/reconciliation/adesk?from=2025-11-01&to=2025-11-30');
    expect(report).toMatchObject({ status: 200, body: { missingRemote: [], extraRemote: [], mismatched: [], duplicates: [] } });
  }, 120_000);

  it('11: connecting an account that already has 200 contractors and 1,000 payments syncs them all, with progress in backfill', async () => {
    const t = await tenant(base);
    const cs = Array.from({ length: 200 }, (_, n) => contractor(`ООО «Архив ${n}»`, { inn: innOf(2000 + n) }));
    const ds = Array.from({ length: 100 }, (_, n) => interaction(cs[n * 2]!, `Архив ${n}`, 1_000_00));
    const ps = Array.from({ length: 1000 }, (_, n) => ({ d: ds[n % 100]!, p: payment(1_00 + n, `2025-12-${String(1 + (n % 28)).padStart(2, '0')}`) }));
    await producers.sendMany([...cs.map((c) => contractorEvent(t.accountId, c)), ...ds.map((d) => interactionEvent(t.accountId, d)), ...ps.map(({ d, p }) => paymentEvent(t.accountId, d, p))]);
    await eventually(async () => {
      const [r] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM payment_replica WHERE account_id = $1`, [t.accountId]);
      const [k] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM contractor_replica WHERE account_id = $1`, [t.accountId]);
      return r!.n === 1000 && k!.n === 200;
    }, 60_000, 250);

    const { acct, connection: first } = await connect(t);
    expect(first).toMatchObject({ state: 'backfilling', backfill: { total: 1300 } });
    const seen: ConnectionView['backfill'][] = [first.backfill];
    const last = await eventually(async () => {
      const conn = await connection(t);
      seen.push(conn.backfill);
      return conn.backfill.done === 1300 ? conn : null;
    }, 120_000, 100);
    expect(last).toMatchObject({ state: 'active', counts: { synced: 1300, pending: 0, failed: 0, parked: 0 } });
    for (let n = 1; n < seen.length; n++) expect(seen[n]!.done).toBeGreaterThanOrEqual(seen[n - 1]!.done);
    expect(first.backfill.done).toBeLessThan(1300);
    expect(acct.contractors()).toHaveLength(200);
    expect(acct.projects()).toHaveLength(100);
    expect(acct.transactions()).toHaveLength(1000);
  }, 180_000);
  it('12: an event handled while the first PUT runs is queued by the backfill, never lost between the two', async () => {
    const t = await tenant(base);
    const acct = adesk.addAccount();
    const c = contractor('ООО «Гонка»');
    // The contractor event's transaction, caught after it wrote the read model and queued for
    // the connections it could see (none yet): it holds the account's queue lock, as enqueue does.
    const handler = new Client({ connectionString: db });
    await handler.connect();
    let put: Promise<{ status: number }> | undefined;
    try {
      await handler.query('BEGIN');
      await handler.query(`INSERT INTO contractor_replica (id, account_id, name, address, version) VALUES ($1, $2, $3, $4, 1)`, [c.uuid, t.accountId, c.mainInfo.name, c.mainInfo.address]);
      await handler.query(`SELECT pg_advisory_xact_lock_shared(hashtextextended('finance-sync:queue:' || $1::text, 0))`, [t.accountId]);
      // The first PUT now runs. Its backfill must not pass the handler: it waits for it (or, without the lock, commits at once and misses the row).
      let answered = false;
      put = t.api('PUT', '/v2/finance/connections/adesk', { token: acct.token }).then((r) => ((answered = true), r));
      await eventually(async () => answered || (await sql(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).length > 0, 30_000);
      await handler.query('COMMIT');
    } finally {
      await handler.end();
    }
    expect((await put!).status).toBe(200);
    await eventually(async () => (await record(t, c.uuid))?.state === 'synced', 30_000);
    expect(acct.contractors()).toEqual([expect.objectContaining({ name: 'ООО «Гонка»' })]);
  }, 60_000);

  it('13: every call a connection needs in 429 back-off shows it paused/rate_limited; the first call through clears it', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    adesk.blockMethod('POST /v1/contractor', Infinity);
    const c = contractor('ООО «Очередь»');
    await producers.sendMany([contractorEvent(t.accountId, c)]);
    const paused = await eventually(async () => {
      const conn = await connection(t);
      return conn.state === 'paused' && conn.reason === 'rate_limited' ? conn : null;
    }, 30_000);
    expect(paused.counts).toMatchObject({ pending: 1, synced: 0 });
    expect(acct.contractors()).toEqual([]);
    adesk.unblockMethod('POST /v1/contractor');
    await eventually(async () => (await record(t, c.uuid))?.state === 'synced', 30_000);
    await eventually(async () => (await connection(t)).state === 'active', 30_000);
    expect(await connection(t)).toMatchObject({ state: 'active', reason: null });
    expect(acct.contractors()).toHaveLength(1);
  }, 60_000);

  it('15: a deal with a name over 210 characters whose create answer was lost is found, not made twice', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const c = contractor('ООО «Длинное»', { inn: innOf(15) });
    const i = interaction(c, `Сделка ${'очень '.repeat(45)}длинная`, 10_000_00);
    // Every write is applied and its answer lost, until the deal is in Adesk.
    adesk.setCommitThenDrop(1, 'reset');
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i)]);
    await eventually(async () => acct.projects().length === 1, 30_000, 50);
    await adesk.clearFaults();
    await eventually(async () => (await record(t, i.uuid))?.state === 'synced', 30_000);
    expect(acct.projects()).toEqual([expect.objectContaining({ name: i.name.slice(0, 210) })]);
    expect(acct.contractors()).toHaveLength(1);
  });

  it('16: a changed KPP reaches the requisites of every bank account of the contractor, not only the first', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const c = contractor('ООО «Два счёта»', { inn: innOf(16), kpp: '770101001', banks: 2 });
    await producers.sendMany([contractorEvent(t.accountId, c)]);
    await eventually(async () => (await record(t, c.uuid))?.state === 'synced' && acct.requisites().length === 2, 30_000);
    const moved: typeof c = { ...c, fullInfo: { value: c.mainInfo.name, data: { kpp: '770201001' } }, updatedAt: new Date(Date.now() + 1_000).toISOString() };
    await producers.sendMany([contractorEvent(t.accountId, moved, 'contractor.updated')]);
    const after = await eventually(async () => {
      const r = acct.requisites();
      return r.length === 2 && r.every((x) => x.kpp === '770201001') ? r : null;
    }, 30_000);
    expect(after.map((x) => x.bankAccountNumber).sort()).toEqual(c.bankInfo.map((b) => b.number).sort());
  });

  it("19: a removed bank account's requisites leave Adesk too, the first one's included, and none shows twice", async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const c = contractor('ООО «Три счёта»', { inn: innOf(19), kpp: '770101001', banks: 3 });
    const [, b, cc] = c.bankInfo;
    await producers.sendMany([contractorEvent(t.accountId, c)]);
    const numbers = () => acct.requisites().map((r) => r.bankAccountNumber).sort();
    await eventually(async () => (await record(t, c.uuid))?.state === 'synced' && acct.requisites().length === 3, 30_000);
    let n = 0;
    const change = async (bankInfo: typeof c.bankInfo, want: string[]) => {
      const next = { ...c, bankInfo, updatedAt: new Date(Date.now() + 1_000 * ++n).toISOString() };
      await producers.sendMany([contractorEvent(t.accountId, next, 'contractor.updated')]);
      await eventually(async () => JSON.stringify(numbers()) === JSON.stringify([...want].sort()) && (await record(t, c.uuid))?.state === 'synced', 30_000);
      // Settled: nothing more changes it.
      expect(acct.requisites().every((r) => r.inn === innOf(19) && r.kpp === '770101001')).toBe(true);
    };
    // The first one removed: the second had its own object, and the contractor's (which held the first) goes.
    await change([b!, cc!], [b!.number, cc!.number]);
    await change([b!], [b!.number]);
    // Replaced by a new one: it gets the contractor's object, the old one's goes.
    const d = { ...b!, id: randomUUID(), number: accountNumber(987_654_321) };
    await change([d], [d.number]);
    expect(await records(t.api, `entityId=${c.uuid}`)).toEqual([expect.objectContaining({ state: 'synced', attempts: 0 })]);
  });

  it('17: a payment whose create answer was lost, and the connection then moved to another bank account: still one transaction, in the first', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const first = acct.bankAccounts()[0]!;
    const second = acct.addBankAccount({ name: 'Второй счёт' });
    const c = contractor('ООО «Переезд»', { inn: innOf(17) });
    const i = interaction(c, 'Переезд', 1_000_00);
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i)]);
    await eventually(async () => (await record(t, i.uuid))?.state === 'synced', 30_000);
    // The create is applied and its answer lost; its look-up cannot run until the move is made.
    const p = payment(500_00, '2025-06-01');
    adesk.setCommitThenDrop(1, 'reset');
    adesk.blockMethod('GET /v1/transactions', Infinity);
    await producers.sendMany([paymentEvent(t.accountId, i, p)]);
    await eventually(async () => acct.transactions().length === 1, 30_000, 50);
    await adesk.clearFaults();
    adesk.blockMethod('GET /v1/transactions', Infinity);
    const moved = await t.api('PUT', '/v2/finance/connections/adesk', { token: acct.token, settings: { bankAccountId: second.id } });
    expect(moved.status).toBe(200);
    adesk.unblockMethod('GET /v1/transactions');
    await eventually(async () => (await record(t, p.uuid))?.state === 'synced', 30_000);
    expect(acct.transactions()).toEqual([expect.objectContaining({ bankAccountId: first.id, importedId: expect.stringContaining(p.uuid) })]);
  });

  it("18: the connection's bank account closed in Adesk pauses it (nothing failed, nothing lost); opened again it resumes, and a PUT moves the rest to another account", async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const first = acct.bankAccounts()[0]!;
    const second = acct.addBankAccount({ name: 'Новый счёт' });
    const c = contractor('ООО «Закрытый счёт»', { inn: innOf(18) });
    const i = interaction(c, 'Закрытый счёт', 3_000_00);
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i)]);
    await eventually(async () => (await record(t, i.uuid))?.state === 'synced', 30_000);
    const pausedForSettings = async () => {
      const conn = await connection(t);
      return conn.state === 'paused' && conn.reason === 'settings_refused';
    };

    acct.closeBankAccount(first.id);
    const p1 = payment(100_00, '2025-09-01');
    await producers.sendMany([paymentEvent(t.accountId, i, p1)]);
    await eventually(pausedForSettings, 30_000);
    expect(await record(t, p1.uuid)).toMatchObject({ state: 'pending', attempts: 0, lastError: expect.stringContaining(`settings.bankAccountId ${first.id} is closed`) });
    // Its probe (every FINANCE_PAUSE_PROBE_MS) lists the open bank accounts: it stays paused while this one is closed.
    const probes = () => adesk.calls({ method: 'GET', path: '/v1/bank-accounts' }).length;
    const before = probes();
    await eventually(async () => probes() >= before + 2, 10_000, 50);
    expect(await pausedForSettings()).toBe(true);
    expect(acct.transactions()).toEqual([]);

    acct.openBankAccount(first.id);
    await eventually(async () => (await record(t, p1.uuid))?.state === 'synced', 30_000);
    expect(await connection(t)).toMatchObject({ state: 'active', reason: null });

    acct.closeBankAccount(first.id);
    const p2 = payment(200_00, '2025-09-02');
    await producers.sendMany([paymentEvent(t.accountId, i, p2)]);
    await eventually(pausedForSettings, 30_000);
    const moved = await t.api('PUT', '/v2/finance/connections/adesk', { token: acct.token, settings: { bankAccountId: second.id } });
    expect(moved.status).toBe(200);
    await eventually(async () => (await record(t, p2.uuid))?.state === 'synced', 30_000);
    expect(acct.transactions().map((x) => [x.importedId?.includes(p1.uuid) ? 'p1' : x.importedId?.includes(p2.uuid) ? 'p2' : '?', x.bankAccountId])).toEqual([
      ['p1', first.id],
      ['p2', second.id],
    ]);
    expect(await connection(t)).toMatchObject({ state: 'active', reason: null, counts: { failed: 0 } });
  }, 90_000);

  it("20: connected while Adesk's subscription has lapsed (no bank account given): once paid again it resumes with the bank account check picks, and payments sync", async () => {
    const t = await tenant(base);
    const acct = adesk.addAccount();
    acct.setPaymentRequired(true);
    const put = await t.api<{ connection: ConnectionView }>('PUT', '/v2/finance/connections/adesk', { token: acct.token, settings: {} });
    expect(put.status).toBe(200);
    expect(put.body.connection).toMatchObject({ state: 'paused', reason: 'payment_required', settings: {} });
    const c = contractor('ООО «Продлили»', { inn: innOf(20) });
    const i = interaction(c, 'После оплаты подписки', 1_000_00);
    const p = payment(77_00, '2025-09-03');
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), paymentEvent(t.accountId, i, p)]);
    acct.setPaymentRequired(false);
    await settled(t.api, 3, 30_000, ['synced']);
    const bank = acct.bankAccounts()[0]!;
    expect(await connection(t)).toMatchObject({ state: 'active', reason: null, settings: { bankAccountId: bank.id }, counts: { failed: 0 } });
    expect(acct.transactions()).toEqual([expect.objectContaining({ amount: '77.00', bankAccountId: bank.id })]);
  }, 60_000);

  it('21: two first PUTs at once (a double click): one connection, whose token works, and payments sync', async () => {
    const t = await tenant(base);
    const acct = adesk.addAccount();
    const puts = await Promise.all([0, 1].map(() => t.api<{ connection: ConnectionView }>('PUT', '/v2/finance/connections/adesk', { token: acct.token, settings: {} })));
    expect(puts.map((r) => r.status)).toEqual([200, 200]);
    const conns = (await t.api<ConnectionView[]>('GET', '/v2/finance/connections')).body;
    expect(conns).toHaveLength(1);
    // Both answers name the webhook URL the row holds, and Adesk was given that one.
    expect(puts.map((r) => r.body.connection.webhookUrl)).toEqual([conns[0]!.webhookUrl, conns[0]!.webhookUrl]);
    expect(acct.webhooks().map((w) => w.url)).toContain(conns[0]!.webhookUrl);
    const c = contractor('ООО «Двойной клик»', { inn: innOf(21) });
    const i = interaction(c, 'Двойной клик', 1_000_00);
    const p = payment(21_00, '2025-09-04');
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), paymentEvent(t.accountId, i, p)]);
    await settled(t.api, 3, 30_000, ['synced']);
    expect(acct.transactions()).toEqual([expect.objectContaining({ amount: '21.00' })]);
  }, 60_000);

  it('22: a deal whose create answer was lost, renamed before the retry: its look-up finds it and the rename and new sum go too (one project)', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const c = contractor('ООО «Переименованное»', { inn: innOf(22) });
    await producers.sendMany([contractorEvent(t.accountId, c)]);
    await eventually(async () => (await record(t, c.uuid))?.state === 'synced', 30_000);
    const i = interaction(c, 'Сделка А', 100_00);
    // The create is applied and its answer lost; then Adesk answers nothing until the rename is in.
    adesk.setCommitThenDrop(1, 'reset');
    await producers.sendMany([interactionEvent(t.accountId, i)]);
    await eventually(async () => acct.projects().length === 1, 30_000, 50);
    await adesk.clearFaults();
    adesk.setServerErrors(1, 'before');
    const renamed = { ...i, name: 'Сделка Б', sum: 250_00, balance: 250_00, updatedAt: new Date(Date.now() + 1_000).toISOString() };
    await producers.sendMany([interactionEvent(t.accountId, renamed, 'interaction.updated')]);
    await eventually(async () => (await sql<{ name: string }>(`SELECT name FROM interaction_replica WHERE id = $1`, [i.uuid]))[0]?.name === 'Сделка Б', 30_000, 50);
    await adesk.clearFaults();
    await eventually(async () => (await record(t, i.uuid))?.state === 'synced', 30_000);
    expect(acct.projects()).toEqual([expect.objectContaining({ name: 'Сделка Б', planIncome: '250.00' })]);
  });

  it('23: a contractor made in Adesk whose requisites waited (429), renamed meanwhile: the rename reaches the contractor made before', async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    adesk.blockMethod('POST /v1/requisites', Infinity);
    const c = contractor('ООО «Старое имя»', { inn: innOf(23) });
    await producers.sendMany([contractorEvent(t.accountId, c)]);
    const refused = () => adesk.calls({ method: 'POST', path: '/v1/requisites' }).length;
    const before = refused();
    await eventually(async () => acct.contractors().length === 1 && refused() > before, 30_000, 50);
    expect(await record(t, c.uuid)).toMatchObject({ state: 'pending' });
    const renamed = { ...c, mainInfo: { ...c.mainInfo, name: 'ООО «Новое имя»' }, updatedAt: new Date(Date.now() + 1_000).toISOString() };
    await producers.sendMany([contractorEvent(t.accountId, renamed, 'contractor.updated')]);
    await eventually(async () => (await sql<{ name: string }>(`SELECT name FROM contractor_replica WHERE id = $1`, [c.uuid]))[0]?.name === 'ООО «Новое имя»', 30_000, 50);
    adesk.unblockMethod('POST /v1/requisites');
    await eventually(async () => (await record(t, c.uuid))?.state === 'synced', 30_000);
    expect(acct.contractors()).toEqual([expect.objectContaining({ name: 'ООО «Новое имя»' })]);
    expect(acct.requisites()).toEqual([expect.objectContaining({ name: 'ООО «Новое имя»', inn: innOf(23) })]);
  });

  it("24: disconnected and connected again while another replica's round holds a record: no second round sends it before that lease ends", async () => {
    const t = await tenant(base);
    const { acct } = await connect(t);
    const c = contractor('ООО «Переподключение»', { inn: innOf(24) });
    const i = interaction(c, 'Переподключение', 1_000_00);
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i)]);
    await eventually(async () => (await record(t, i.uuid))?.state === 'synced', 30_000);
    // The payment is claimed by a round of "another replica" (its lease, as a claim sets it), whose call is in flight.
    adesk.blockMethod('/v2/transactions/create', Infinity);
    const p = payment(24_00, '2025-09-05');
    await producers.sendMany([paymentEvent(t.accountId, i, p)]);
    await eventually(async () => typeof (await record(t, p.uuid))?.lastError === 'string', 30_000, 50);
    // Held for a minute, and due now: while the lease holds, nothing but the lease keeps a round from taking it.
    await sql(`UPDATE sync_record SET lease_until = now() + interval '60 seconds', due_at = now() WHERE entity_id = $1`, [p.uuid]);
    adesk.unblockMethod('/v2/transactions/create');
    expect((await t.api('DELETE', '/v2/finance/connections/adesk')).status).toBe(200);
    expect((await t.api('PUT', '/v2/finance/connections/adesk', { token: acct.token, settings: {} })).status).toBe(200);
    const [{ leased }] = await sql<{ leased: boolean }>(`SELECT lease_until > now() AS leased FROM sync_record WHERE entity_id = $1`, [p.uuid]);
    expect(leased).toBe(true);
    // Rounds of the reconnected connection run meanwhile: one takes and sends another payment,
    // due as the leased one is; the leased payment is not among what it sent.
    const other = payment(25_00, '2025-09-06');
    await producers.sendMany([paymentEvent(t.accountId, i, other)]);
    await eventually(async () => (await record(t, other.uuid))?.state === 'synced', 30_000);
    expect(acct.transactions()).toEqual([expect.objectContaining({ amount: '25.00' })]);
    const [{ stillLeased }] = await sql<{ stillLeased: boolean }>(`SELECT lease_until > now() AS "stillLeased" FROM sync_record WHERE entity_id = $1`, [p.uuid]);
    expect(stillLeased).toBe(true);
    expect(await record(t, p.uuid)).toMatchObject({ state: 'pending' });
    // The other replica's round ends without an outcome (its lease runs out): the next round sends it, once.
    await sql(`UPDATE sync_record SET lease_until = now() WHERE entity_id = $1`, [p.uuid]);
    await eventually(async () => (await record(t, p.uuid))?.state === 'synced', 30_000);
    expect(acct.transactions().map((x) => x.amount).sort()).toEqual(['24.00', '25.00']);
    expect(acct.transactions().filter((x) => x.importedId.endsWith(p.uuid))).toHaveLength(1);
  });

  it('14: documents are kept with their deal from papka.documents.v1, and not queued for Adesk, which takes none', async () => {
    const t = await tenant(base);
    await connect(t);
    const c = contractor('ООО «Документы»', { inn: innOf(14) });
    const i = interaction(c, 'Со счётом', 3_000_00);
    const d = documentSnapshot(c, { sum: 3_000_00 });
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), documentEvent(t.accountId, d), documentAttachedEvent(t.accountId, i, d)]);
    // The attach (interactions topic) and the document (documents topic) are consumed apart, in either order: both rows.
    await eventually(
      async () =>
        (await sql(`SELECT 1 FROM interaction_document WHERE document_id = $1`, [d.uuid])).length === 1 &&
        (await sql(`SELECT 1 FROM document_replica WHERE id = $1`, [d.uuid])).length === 1,
      30_000,
    );
    expect(await sql(`SELECT type, sum::int AS sum, render_state, storage_key FROM document_replica WHERE id = $1 AND account_id = $2`, [d.uuid, t.accountId])).toEqual([
      { type: 'Счёт', sum: 3_000_00, render_state: 'rendered', storage_key: d.storageKey },
    ]);
    await settled(t.api, 2, 30_000, ['synced']);
    expect(await records(t.api, 'entityType=document')).toEqual([]);
    expect(await t.api('GET', '/v2/finance/records?entityType=nope')).toMatchObject({ status: 400, body: { errors: { entityType: expect.any(Array) } } });
  }, 60_000);
});
