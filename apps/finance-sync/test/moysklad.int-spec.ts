import { Client } from 'pg';
import type { ConnectionView, ContractorSnapshot, DocumentSnapshot, InteractionSnapshot, PaymentSnapshot } from '@papka/contracts';
import { createTestDatabase, dropDatabase, eventually, serviceEnv, startFakeMoysklad, startService, type FakeMoysklad, type FakeMoyskladAccount, type MoyskladJson, type RunningService } from '@papka/testing';
import { syncIdOf } from '../src/connectors/moysklad/moysklad.mapper';
import {
  fastEngineEnv,
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
  settled,
  tenant,
  type Tenant,
} from './harness';

/**
 * finance-sync against the fake MoySklad on the real Kafka and PostgreSQL (issue 12, Tests 1
 * and the acceptance path). Everything is asserted on what the fake holds at the end and on its
 * own traffic counters.
 */
describe('finance-sync with MoySklad (PostgreSQL + Kafka + fake MoySklad)', () => {
  let moysklad: FakeMoysklad;
  let db: string;
  let fs: RunningService;
  const producers = new Producers();
  const base = () => fs.url;

  beforeAll(async () => {
    moysklad = await startFakeMoysklad({ latencyMs: 20 });
    db = await createTestDatabase('finance_sync_moysklad');
    await producers.connect();
    fs = await startService(
      'finance-sync',
      serviceEnv(
        fastEngineEnv({
          DATABASE_URL: db,
          MOYSKLAD_API_URL: moysklad.url,
          FINANCE_RATE_BACKOFF_MS: '1000,2000,4000',
          FINANCE_HTTP_TIMEOUT_MS: '5000',
          FINANCE_LEASE_MS: '20000',
        }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await fs?.stop();
    await producers.close();
    await moysklad?.close();
    if (db) await dropDatabase(db);
  });

  afterEach(() => moysklad.clearFaults());

  const connect = async (t: Tenant, acct: FakeMoyskladAccount, settings: Record<string, unknown> = {}) => {
    const res = await t.api<{ status: string; connection: ConnectionView }>('PUT', '/v2/finance/connections/moysklad', { token: acct.token, settings });
    expect(res.status).toBe(200);
    return res.body.connection;
  };

  /** The connection's id (the syncIds derive from it); the API does not show it. */
  const connectionIdOf = async (t: Tenant): Promise<string> => {
    const client = new Client({ connectionString: db });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string }>(`SELECT id FROM finance_connection WHERE account_id = $1 AND target = 'moysklad'`, [t.accountId]);
      return rows[0]!.id;
    } finally {
      await client.end();
    }
  };

  const idOf = (ref: unknown): string | undefined => /\/([0-9a-f-]{36})$/.exec(String((ref as { meta?: { href?: string } } | undefined)?.meta?.href ?? ''))?.[1];

  /** A contractor with the party's fullInfo as DaData answers it. */
  const party = (n: number): ContractorSnapshot => {
    const c = contractor(`ООО «Партнёр ${n}»`, { inn: innOf(n), kpp: '770101001' });
    c.fullInfo = { value: c.mainInfo.name, data: { kpp: '770101001', ogrn: `10277001${String(n).padStart(5, '0')}`, name: { full_with_opf: `ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ «ПАРТНЁР ${n}»` }, address: { value: `г Москва, ул Партнёрская, д ${n}` } } };
    return c;
  };

  it('Tests 1: 300 payments over 30 counterparties and 30 invoices, 30 % commit-then-drop, 11 per 3 s: exactly one of each, linked, never over the limit', async () => {
    const started = Date.now();
    const t = await tenant(base, 'ms');
    const acct = moysklad.addAccount();
    moysklad.setRateLimit({ limit: 11, windowMs: 3_000 }, acct.token);
    const conn = await connect(t, acct, { tokenKind: 'user' });
    expect(conn.settings).toMatchObject({ tokenKind: 'user', organizationId: acct.organizations()[0]!.id, expenseItemId: acct.expenseItems()[0]!.id });
    moysklad.setCommitThenDrop(0.3);

    const deals: Array<{ c: ContractorSnapshot; i: InteractionSnapshot; d: DocumentSnapshot; ps: PaymentSnapshot[] }> = [];
    for (let n = 0; n < 30; n++) {
      const c = party(n + 1);
      const i = interaction(c, `Сделка ${n + 1}`, 1_000_000 + n);
      const d = documentSnapshot(c, { sum: 1_000_000 + n });
      const ps = Array.from({ length: 10 }, (_, k) => payment(10_000 + n * 100 + k, `2026-11-${String(1 + (k % 28)).padStart(2, '0')}`, k % 3 === 2 ? 'outcome' : 'income'));
      deals.push({ c, i, d, ps });
    }
    // The invoices first, as a user makes them before the payments come in.
    await producers.sendMany(deals.flatMap(({ c, i, d }) => [contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), documentEvent(t.accountId, d), documentAttachedEvent(t.accountId, i, d)]));
    await settled(t.api, 60, 240_000, ['synced']);
    await producers.sendMany(deals.flatMap(({ i, ps }) => ps.map((p) => paymentEvent(t.accountId, i, p))));
    const list = await settled(t.api, 360, 300_000, ['synced', 'failed']);
    expect(list.filter((r) => r.state !== 'synced')).toEqual([]);

    // Exactly one of each, found by what finance-sync sent: externalCode and syncId.
    const connectionId = await connectionIdOf(t);
    const byCode = (rows: MoyskladJson[]) => new Map(rows.map((r) => [String(r.externalCode), r]));
    const counterparties = acct.counterparties();
    const invoices = acct.invoicesOut();
    const ins = acct.paymentsIn();
    const outs = acct.paymentsOut();
    expect(counterparties).toHaveLength(30);
    expect(invoices).toHaveLength(30);
    expect(ins.length + outs.length).toBe(300);
    expect(byCode(counterparties).size).toBe(30);
    expect(byCode(invoices).size).toBe(30);
    expect(byCode([...ins, ...outs]).size).toBe(300);

    const cps = byCode(counterparties);
    const invs = byCode(invoices);
    const payments = byCode([...ins, ...outs]);
    const item = acct.expenseItems()[0]!;
    for (const { c, d, ps } of deals) {
      const cp = cps.get(c.uuid)!;
      expect(cp).toMatchObject({ name: c.mainInfo.name, companyType: 'legal', inn: c.mainInfo.inn, kpp: '770101001', legalTitle: expect.stringContaining('ПАРТНЁР'), accounts: { rows: [expect.objectContaining({ accountNumber: c.bankInfo[0]!.number })] } });
      expect(cp.syncId).toBe(syncIdOf(connectionId, 'counterparty', c.uuid));
      expect(invs.get(d.uuid)!.syncId).toBe(syncIdOf(connectionId, 'invoiceout', d.uuid));
      const inv = invs.get(d.uuid)!;
      expect({ agent: idOf(inv.agent), sum: inv.sum }).toEqual({ agent: cp.id, sum: d.sum });
      for (const p of ps) {
        const x = payments.get(p.uuid)!;
        expect({ type: (x.meta as { type: string }).type, sum: x.sum, moment: x.moment, agent: idOf(x.agent) }).toEqual({
          type: p.type === 'income' ? 'paymentin' : 'paymentout',
          sum: p.sum,
          moment: `${p.date} 00:00:00.000`,
          agent: cp.id,
        });
        if (p.type === 'income') expect((x.operations as MoyskladJson[]).map((o) => ({ invoice: idOf(o), linkedSum: o.linkedSum }))).toEqual([{ invoice: inv.id, linkedSum: p.sum }]);
        // A paymentout always has the expense item; it links no invoiceout (the API allows none there).
        else expect({ expenseItem: idOf(x.expenseItem), operations: x.operations }).toEqual({ expenseItem: item.id, operations: [] });
      }
      expect(inv.payedSum).toBe(ps.filter((p) => p.type === 'income').reduce((s, p) => s + p.sum, 0));
    }

    // The report agrees: nothing missing, extra, different or doubled (payments and invoices).
    const report = await t.api('GET', `/v2/finance/reconciliation/moysklad?from=2026-11-01&to=${new Date().toISOString().slice(0, 10)}`);
    expect(report).toMatchObject({ status: 200, body: { missingRemote: [], extraRemote: [], mismatched: [], duplicates: [] } });

    // The fault really happened, and the limit was never crossed.
    expect(moysklad.calls({ token: acct.token, outcome: 'dropped' }).length).toBeGreaterThan(10);
    expect(moysklad.calls({ token: acct.token, route: '/entity/paymentout' }).filter((x) => x.code === 3000)).toEqual([]);
    const stats = acct.stats();
    expect(stats).toMatchObject({ bursts: 0, parallelRejections: 0, banned: false });
    expect(stats.maxParallel).toBeLessThanOrEqual(5);
    expect(stats.max429PerMinute).toBeLessThan(200);
    console.log(`moysklad Tests 1: ${stats.requests} requests, ${moysklad.calls({ token: acct.token, outcome: 'dropped' }).length} dropped, max parallel ${stats.maxParallel}, ${Math.round((Date.now() - started) / 1000)} s`);
  }, 600_000);

  it('acceptance: PUT, a contractor, an invoice attached to an interaction and a payment leave one counterparty, one invoiceout and one linked paymentin', async () => {
    const t = await tenant(base, 'ms');
    const acct = moysklad.addAccount();
    const conn = await connect(t, acct);
    expect(conn).toMatchObject({ target: 'moysklad', state: expect.stringMatching(/active|backfilling/), webhookUrl: null });
    expect(JSON.stringify(conn)).not.toContain(acct.token);

    const c = party(501);
    const i = interaction(c, 'Поставка', 5_000_00);
    const d = documentSnapshot(c, { sum: 5_000_00 });
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), documentEvent(t.accountId, d), documentAttachedEvent(t.accountId, i, d)]);
    await settled(t.api, 2, 60_000, ['synced']);
    const p = payment(1_234_56, '2026-11-30');
    await producers.sendMany([paymentEvent(t.accountId, i, p)]);
    await eventually(async () => (await records(t.api, `entityId=${p.uuid}`))[0]?.state === 'synced', 60_000);

    const [cp] = acct.counterparties();
    const [inv] = acct.invoicesOut();
    const [pin] = acct.paymentsIn();
    expect([acct.counterparties().length, acct.invoicesOut().length, acct.paymentsIn().length, acct.paymentsOut().length]).toEqual([1, 1, 1, 0]);
    expect(cp).toMatchObject({ externalCode: c.uuid, inn: c.mainInfo.inn, ogrn: '1027700100501' });
    expect(inv).toMatchObject({ externalCode: d.uuid, sum: 5_000_00, payedSum: 1_234_56, payments: [expect.objectContaining({ linkedSum: 1_234_56 })] });
    expect(idOf(inv!.agent)).toBe(cp!.id);
    expect(pin).toMatchObject({ externalCode: p.uuid, sum: 1_234_56, moment: '2026-11-30 00:00:00.000', operations: [{ meta: expect.objectContaining({ type: 'invoiceout' }), linkedSum: 1_234_56 }] });
    expect(idOf((pin!.operations as MoyskladJson[])[0])).toBe(inv!.id);
    expect(await records(t.api, `entityId=${p.uuid}`)).toEqual([expect.objectContaining({ target: 'moysklad', entityType: 'payment', state: 'synced', remoteId: pin!.id })]);
    const report = await t.api('GET', `/v2/finance/reconciliation/moysklad?from=2026-11-01&to=${new Date().toISOString().slice(0, 10)}`);
    expect(report).toMatchObject({ status: 200, body: { missingRemote: [], extraRemote: [], mismatched: [], duplicates: [] } });

    // Removing the payment deletes it; the invoice stays, no longer paid.
    await producers.sendMany([paymentEvent(t.accountId, i, p, 'interaction.payment.removed')]);
    await eventually(async () => acct.paymentsIn().length === 0, 30_000);
    expect(acct.invoicesOut()).toEqual([expect.objectContaining({ externalCode: d.uuid, payedSum: 0, payments: [] })]);
    expect(acct.counterparties()).toHaveLength(1);
  }, 120_000);

  it('a payment whose attached invoice has not reached the document read model is parked, then sent linked once it comes; a deleted one parks nothing forever', async () => {
    const t = await tenant(base, 'ms');
    const acct = moysklad.addAccount();
    await connect(t, acct);
    const c = party(502);
    const i = interaction(c, 'Поставка позже', 3_000_00);
    const d = documentSnapshot(c, { sum: 3_000_00 });
    const i2 = interaction(c, 'Поставка без счёта', 1_000_00);
    const d2 = documentSnapshot(c, { sum: 1_000_00 });
    const p = payment(2_500_00, '2026-11-30');
    const p2 = payment(700_00, '2026-11-30');
    // The interactions list their documents and the payments come, but no document.* event yet (topics are not ordered).
    await producers.sendMany([
      contractorEvent(t.accountId, c),
      interactionEvent(t.accountId, i),
      documentAttachedEvent(t.accountId, i, d),
      paymentEvent(t.accountId, i, p),
      interactionEvent(t.accountId, i2),
      documentAttachedEvent(t.accountId, i2, d2),
      paymentEvent(t.accountId, i2, p2),
    ]);
    const parked = async (id: string) => {
      const [r] = await records(t.api, `entityId=${id}`);
      return r?.state === 'parked' && (r.lastError ?? '').includes('not in the document read model yet');
    };
    await eventually(async () => (await parked(p.uuid)) && (await parked(p2.uuid)), 60_000);
    expect(acct.paymentsIn()).toEqual([]);

    await producers.sendMany([documentEvent(t.accountId, d)]);
    await eventually(async () => (await records(t.api, `entityId=${p.uuid}`))[0]?.state === 'synced', 60_000);
    const [inv] = acct.invoicesOut();
    expect(inv).toMatchObject({ externalCode: d.uuid, sum: 3_000_00, payedSum: 2_500_00 });
    expect(acct.paymentsIn()).toEqual([expect.objectContaining({ externalCode: p.uuid, operations: [{ meta: expect.objectContaining({ type: 'invoiceout' }), linkedSum: 2_500_00 }] })]);
    expect(idOf((acct.paymentsIn()[0]!.operations as MoyskladJson[])[0])).toBe(inv!.id);
    expect(await parked(p2.uuid)).toBe(true);

    // The other document is deleted before it ever reached finance-sync: the payment goes out on its own.
    await producers.sendMany([documentEvent(t.accountId, d2, 'document.deleted')]);
    await eventually(async () => (await records(t.api, `entityId=${p2.uuid}`))[0]?.state === 'synced', 60_000);
    const pin2 = acct.paymentsIn().find((x) => x.externalCode === p2.uuid);
    expect(pin2).toMatchObject({ sum: 700_00 });
    expect(pin2!.operations ?? []).toEqual([]);
    expect(acct.invoicesOut()).toHaveLength(1);
  }, 120_000);

  it('a contractor the MoySklad account already has (same INN and KPP) is adopted, not made again: one counterparty, the payment on it', async () => {
    const t = await tenant(base, 'ms');
    const acct = moysklad.addAccount();
    const c = party(601);
    // Typed in by hand (or imported from 1C) before the connection existed.
    const own = acct.seed('counterparty', { name: 'Партнёр 601 (ручной)', inn: c.mainInfo.inn, kpp: '770101001', externalCode: '1c-601' });
    await connect(t, acct);
    const i = interaction(c, 'Поставка 601', 2_000_00);
    const p = payment(2_000_00, '2026-11-30');
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), paymentEvent(t.accountId, i, p)]);
    await eventually(async () => (await records(t.api, `entityId=${p.uuid}`))[0]?.state === 'synced', 60_000);
    expect(acct.counterparties()).toEqual([expect.objectContaining({ id: own.id, inn: c.mainInfo.inn, name: c.mainInfo.name, externalCode: '1c-601', description: `[papka:${c.uuid}]` })]);
    expect(await records(t.api, `entityId=${c.uuid}`)).toEqual([expect.objectContaining({ state: 'synced', remoteId: own.id })]);
    expect(acct.paymentsIn()).toHaveLength(1);
    expect(idOf(acct.paymentsIn()[0]!.agent)).toBe(own.id);
  }, 90_000);

  it('refuses a connection whose MoySklad account has no expense item (no paymentout could be made), naming settings.expenseItemId', async () => {
    const t = await tenant(base, 'ms');
    const acct = moysklad.addAccount({ expenseItems: [] });
    const res = await t.api('PUT', '/v2/finance/connections/moysklad', { token: acct.token });
    expect(res).toMatchObject({ status: 400, body: { errors: { 'settings.expenseItemId': expect.any(Array) } } });
    expect((await t.api('PUT', '/v2/finance/connections/moysklad', { token: 'not-a-token' })).status).toBe(400);
    expect((await t.api('PUT', '/v2/finance/connections/moysklad', { token: acct.token, settings: { tokenKind: 'admin' } })).status).toBe(400);
    expect((await t.api<ConnectionView[]>('GET', '/v2/finance/connections')).body).toEqual([]);
  }, 60_000);

  it('a tariff block pauses the connection as payment_required, and it resumes by itself when lifted', async () => {
    const t = await tenant(base, 'ms');
    const acct = moysklad.addAccount();
    await connect(t, acct);
    moysklad.setTariffBlock(1070, acct.token);
    const c = party(777);
    await producers.sendMany([contractorEvent(t.accountId, c)]);
    await eventually(async () => {
      const [conn] = (await t.api<ConnectionView[]>('GET', '/v2/finance/connections')).body;
      return conn?.state === 'paused' && conn.reason === 'payment_required';
    }, 30_000);
    expect(acct.counterparties()).toEqual([]);
    moysklad.setTariffBlock(null, acct.token);
    await eventually(async () => (await records(t.api, `entityId=${c.uuid}`))[0]?.state === 'synced', 30_000);
    expect(acct.counterparties()).toEqual([expect.objectContaining({ externalCode: c.uuid })]);
  }, 90_000);
});
