import { Topics, type BillingDocumentSnapshot, type EventEnvelope } from '@papka/contracts';
import {
  billingDate,
  createTestDatabase,
  dropDatabase,
  eventually,
  readTopic,
  s3Env,
  serviceEnv,
  startFakeBilling,
  startService,
  type BillingPageRequest,
  type FakeBilling,
  type FakeBillingDocument,
  type RunningService,
} from '@papka/testing';
import { tenant, type Tenant } from './harness';

interface ImportView {
  id: string;
  state: 'running' | 'interrupted' | 'done' | 'failed';
  pages: number;
  documents: number;
  rejected: number;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

const DAY = 86_400_000;
const RESCAN_DAYS = 10;

/**
 * The billing import (issue 12, Tests 3) against the fake billing on the real Kafka and
 * PostgreSQL: 2,500 documents of all four types, pages of 100, documents added between page
 * fetches, old bills that turn PAID with nothing else changing, a 5xx in the middle of a scan.
 * Asserted on what Papka lists against what the fake holds at the end.
 */
describe('finance-sync billing import (PostgreSQL + Kafka + fake billing)', () => {
  let billing: FakeBilling;
  let outsider: FakeBilling;
  /**
   * A billing as 001 and finance-targets §3 describe the real one: float rubles as a Java double
   * writes them (`1000.0`, `1.0E7`, a VAT never rounded), a status 001 does not list on some
   * bills (`CANCELLED`), deadlines without a time.
   */
  let honest: FakeBilling;
  let db: string;
  let fs: RunningService;
  /** A second replica on the same database: the two must never run the same import at once. */
  let replica: RunningService;
  const base = () => fs.url;

  beforeAll(async () => {
    billing = await startFakeBilling({ documents: 2_500, seed: 12, spanDays: 120 });
    outsider = await startFakeBilling({ documents: 3 });
    honest = await startFakeBilling({ documents: 300, seed: 21, spanDays: 60, sums: 'float', extraStatuses: ['CANCELLED'], deadlines: 'date' });
    db = await createTestDatabase('finance_billing');
    const env = serviceEnv({
      ...s3Env(),
      DATABASE_URL: db,
      LOG_LEVEL: 'info',
      // Only the fake billings are allowlisted (plain http on 127.0.0.1); `outsider` is not.
      FINANCE_ALLOWED_HOSTS: `${new URL(billing.url).host},${new URL(honest.url).host}`,
      // The schedule's first run starts at once; the second is asked for (POST import).
      FINANCE_BILLING_POLL_MS: String(3_600_000),
      FINANCE_BILLING_RESCAN_DAYS: String(RESCAN_DAYS),
      FINANCE_WORKER_POLL_MS: '50',
      FINANCE_UNAVAILABLE_RETRY_MS: '200',
      FINANCE_HTTP_TIMEOUT_MS: '5000',
      FINANCE_LEASE_MS: '5000',
    });
    fs = await startService('finance-sync', env);
    replica = await startService('finance-sync', env);
  }, 120_000);

  afterAll(async () => {
    await replica?.stop();
    await fs?.stop();
    await billing?.close();
    await outsider?.close();
    await honest?.close();
    if (db) await dropDatabase(db);
  });

  const connect = (t: Tenant, baseUrl: string, token = billing.token) => t.api<Record<string, unknown>>('PUT', '/v2/finance/connections/billing', { token, settings: { baseUrl } });
  const importOf = async (t: Tenant, id: string) => (await t.api<ImportView>('GET', `/v2/finance/imports/${id}`)).body;
  const finished = (t: Tenant, id: string) =>
    eventually(async () => {
      const v = await importOf(t, id);
      return v.state === 'done' || v.state === 'failed' ? v : null;
    }, 120_000, 200);

  async function listAll(t: Tenant, query = ''): Promise<BillingDocumentSnapshot[]> {
    const all: BillingDocumentSnapshot[] = [];
    for (let page = 1; page <= 100; page++) {
      const res = await t.api<BillingDocumentSnapshot[]>('GET', `/v2/finance/billing/documents?size=1000&page=${page}${query}`);
      expect(res.status).toBe(200);
      all.push(...res.body);
      if (res.body.length < 1000) break;
    }
    return all;
  }

  /** The scan's own page requests (size 100), not the size-1 check and page-base probe, nor a second read again on its own. */
  const scanPages = (from: number) => billing.requests().filter((r) => r.n > from && r.size === 100 && (r.dateFrom === null || r.dateFrom !== r.dateTo));

  it('3: 2,500 documents over two runs, with drift, silent PAID flips and a 5xx mid-scan: each once, current, exact, linked', async () => {
    const t = await tenant(base, 'bill');
    const other = await tenant(base, 'bill');
    const oldCutoff = () => billingDate(new Date(Date.now() - (RESCAN_DAYS + 5) * DAY));
    const flipped: string[] = [];
    const added: FakeBillingDocument[] = [];

    // Run 1 (the schedule's, at once on connect): every 4th page, 3 new documents arrive and 2
    // old open bills are paid (status only); the 12th page answers 500 once.
    let run1Pages = 0;
    billing.onPage((r: BillingPageRequest) => {
      if (r.size !== 100) return;
      run1Pages++;
      if (run1Pages % 4 === 0) {
        added.push(...billing.addDocuments(3));
        const old = billing.openBills({ olderThan: oldCutoff() }).slice(0, 2).map((b) => b.id);
        billing.payBills(old);
        flipped.push(...old);
      }
      if (run1Pages === 12) billing.failRequest(0, 500);
    });
    const before = billing.requests().length;
    const put = await connect(t, billing.url);
    expect(put.status).toBe(200);
    const first = await t.api<{ status: string; importId: string }>('POST', '/v2/finance/connections/billing/import');
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ status: 'OK', importId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const run1 = await finished(t, first.body.importId);
    billing.onPage(null);

    // The 5xx interrupted the scan, which went on at the page that failed, with date_to frozen:
    // 25 pages of 100, every document once, the 12th page asked twice and no other (with two
    // replicas polling every 50 ms, neither ran the import beside the other).
    expect(run1).toMatchObject({ state: 'done', pages: 25, documents: 2_500, error: null });
    const pages1 = scanPages(before);
    expect(pages1.filter((r) => r.status === 500)).toHaveLength(1);
    expect(pages1.filter((r) => r.status === 200).map((r) => r.page)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(new Set(pages1.map((r) => r.dateTo)).size).toBe(1);
    expect(added.length).toBeGreaterThan(0);
    expect(flipped.length).toBeGreaterThan(0);
    // The documents that arrived during the run are after its date_to: the next run takes them.
    expect((await listAll(t)).length).toBe(2_500);

    // Between the runs: more old bills paid (nothing else changes) and two more documents (dated
    // 2 s ago: a run leaves its own last second to the next run, see the README).
    const late = billing.openBills({ olderThan: oldCutoff() }).slice(0, 5).map((b) => b.id);
    billing.payBills(late);
    flipped.push(...late);
    // And old documents that 001 shows changing too: an expense awaiting payment, a bill paid
    // after it expired (both were read only in the trailing window, so they stayed as they were).
    const old = billing.documents().filter((d) => d.date < oldCutoff());
    const expenses = old.filter((d) => d.type === 'EXPENSE' && d.status !== 'PAID').slice(0, 3).map((d) => d.id);
    const expired = old.filter((d) => d.type === 'BILL' && d.status === 'EXPIRED').slice(0, 3).map((d) => d.id);
    expect([expenses.length, expired.length]).toEqual([3, 3]);
    billing.payBills(expenses, 'PAID', 'EXPENSE');
    billing.payBills(expired);
    added.push(...billing.addDocuments(2, { date: billingDate(new Date(Date.now() - 2000)) }));

    // A run leaves its own last second to the next one (date_to is a second back): run 2 takes
    // every document that arrived during run 1 only once the newest is behind that second.
    // Started sooner, the three of run 1's last page 24 could be after its date_to, for a run 3.
    const newest = added.reduce((max, d) => (d.date > max ? d.date : max), '');
    await eventually(async () => billingDate(new Date(Date.now() - 1000)) >= newest, 5_000, 20);

    // Run 2 loses its third page to a reset connection: it continues there as well.
    let run2Pages = 0;
    billing.onPage((r) => {
      if (r.size === 100 && ++run2Pages === 3) billing.failRequest(0, 'reset');
    });
    const mark = billing.requests().length;
    const second = await t.api<{ status: string; importId: string }>('POST', '/v2/finance/connections/billing/import');
    expect(second.status).toBe(202);
    expect(second.body.importId).not.toBe(first.body.importId);
    const run2 = await finished(t, second.body.importId);
    billing.onPage(null);
    expect(run2).toMatchObject({ state: 'done', error: null });
    // Run 2 read the trailing window and the bills still open in Papka, not the whole history.
    const pages2 = scanPages(mark);
    expect(pages2.length).toBeLessThan(25);
    expect(pages2.some((r) => r.types?.join(',') === 'BILL,EXPENSE')).toBe(true);
    expect(pages2.filter((r) => r.status === 0)).toHaveLength(1);
    expect(run2.pages).toBe(pages2.filter((r) => r.status === 200).length);

    // Papka holds exactly what the billing holds: each document once, its status, its kopecks.
    const held = billing.documents();
    const listed = await listAll(t);
    const key = (d: { type: string; id: string }) => `${d.type}:${d.id}`;
    expect(listed).toHaveLength(held.length);
    expect(new Set(listed.map(key)).size).toBe(held.length);
    const byKey = new Map(listed.map((d) => [key(d), d]));
    for (const h of held) {
      const p = byKey.get(key(h));
      expect(p).toBeDefined();
      expect({ status: p!.status ?? undefined, vat: p!.vatSum, total: p!.totalSum, balance: p!.balanceSum, date: p!.date }).toEqual({
        status: h.status,
        vat: h.vatSum,
        total: h.totalSum,
        balance: h.balanceSum,
        date: h.date,
      });
      expect(p!.items.map((i) => [i.num, i.price, i.totalSum, i.amount])).toEqual((h.items ?? []).map((i) => [i.num, i.price, i.totalSum, Number(i.amount)]));
      // PAYMENT -> BILL relations, resolved to the imported bills' uuids.
      expect(p!.relations.map((r) => ({ id: r.id, type: r.type, sum: r.relationSum, uuid: r.uuid }))).toEqual(
        h.relations.map((r) => ({ id: r.id, type: r.type, sum: r.relationSum, uuid: byKey.get(key(r))!.uuid })),
      );
    }
    for (const id of flipped) expect(byKey.get(`BILL:${id}`)!.status).toBe('PAID');
    for (const id of expired) expect(byKey.get(`BILL:${id}`)!.status).toBe('PAID');
    for (const id of expenses) expect(byKey.get(`EXPENSE:${id}`)!.status).toBe('PAID');
    for (const d of added) expect(byKey.has(key(d))).toBe(true);
    expect(held.some((d) => d.type === 'PAYMENT' && d.relations.length > 0)).toBe(true);
    expect(new Set(listed.map((d) => d.type))).toEqual(new Set(['BILL', 'EXPENSE', 'REPORT', 'PAYMENT']));

    // The filters.
    const paidBills = await listAll(t, '&type=BILL&status=PAID');
    expect(paidBills.map(key).sort()).toEqual(held.filter((d) => d.type === 'BILL' && d.status === 'PAID').map(key).sort());
    const day = held[100]!.date.slice(0, 10);
    expect((await listAll(t, `&from=${day}&to=${day}`)).map(key).sort()).toEqual(held.filter((d) => d.date.startsWith(day)).map(key).sort());
    const bad = await t.api<{ errors?: Record<string, unknown> }>('GET', '/v2/finance/billing/documents?type=INVOICE&size=0');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors ?? {})).toEqual(expect.arrayContaining(['type', 'size']));
    expect((await t.api('GET', '/v2/finance/billing/documents?from=01.02.2026')).status).toBe(400);

    // Events: one `imported` per document (the resumed page doubled none), an `updated` with the
    // new status for every flipped bill, full snapshots in kopecks.
    const uuids = new Set(listed.map((d) => d.uuid));
    const flippedUuids = [...flipped, ...expired].map((id) => byKey.get(`BILL:${id}`)!.uuid).concat(expenses.map((id) => byKey.get(`EXPENSE:${id}`)!.uuid));
    // Read until every document's `imported` and each flipped bill's PAID have come (per
    // aggregate the topic keeps the order; across aggregates it does not).
    let importedSeen = 0;
    const lastStatus = new Map<string, string | null>();
    const events = await readTopic(
      Topics.finance,
      (m) => {
        const v = m[m.length - 1]!.value;
        if (!v.includes(t.accountId) || !v.includes('finance.billing-document.')) return false;
        const e = JSON.parse(v) as EventEnvelope<BillingDocumentSnapshot>;
        if (e.type === 'finance.billing-document.imported') importedSeen++;
        lastStatus.set(e.aggregateId, e.data.status);
        return importedSeen >= held.length && flippedUuids.every((u) => lastStatus.get(u) === 'PAID');
      },
      120_000,
    );
    const mine = events.map((e) => JSON.parse(e.value) as EventEnvelope<BillingDocumentSnapshot>).filter((e) => e.accountId === t.accountId);
    const imported = mine.filter((e) => e.type === 'finance.billing-document.imported');
    expect(imported).toHaveLength(held.length);
    expect(new Set(imported.map((e) => e.aggregateId)).size).toBe(held.length);
    expect(imported.every((e) => uuids.has(e.aggregateId))).toBe(true);
    // A bill paid before its page was read was imported as PAID; one paid after was updated.
    const updated = mine.filter((e) => e.type === 'finance.billing-document.updated');
    expect(updated.length).toBeGreaterThan(0);
    for (const id of flipped) {
      const uuid = byKey.get(`BILL:${id}`)!.uuid;
      const last = mine.filter((e) => e.aggregateId === uuid).pop();
      expect(last?.data).toMatchObject({ id, type: 'BILL', status: 'PAID', totalSum: billing.document('BILL', id)!.totalSum });
    }
    for (const e of updated) expect((e.data.type === 'BILL' || e.data.type === 'EXPENSE') && e.data.status === 'PAID').toBe(true);
    expect(updated.filter((e) => e.data.type === 'EXPENSE').length).toBeGreaterThanOrEqual(expenses.length);
    const payment = imported.find((e) => e.data.type === 'PAYMENT' && e.data.relations.length > 0)!;
    expect(payment.data.relations.every((r) => r.uuid === byKey.get(key(r))!.uuid)).toBe(true);
    expect(events.filter((e) => e.value.includes(billing.token))).toEqual([]);

    // Another account sees none of it.
    expect((await other.api('GET', `/v2/finance/imports/${first.body.importId}`)).status).toBe(404);
    expect(await listAll(other)).toEqual([]);
    expect((await other.api('POST', '/v2/finance/connections/billing/import')).status).toBe(404);
    expect((await t.api('GET', '/v2/finance/imports/not-a-uuid')).status).toBe(400);
  }, 300_000);

  it('a billing that answers fewer documents a page than asked (its own cap) is read to its recordsTotal, not to its first short page', async () => {
    const t = await tenant(base, 'bill');
    billing.setPageCap(40);
    try {
      const put = await connect(t, billing.url);
      expect(put.status).toBe(200);
      const run = await t.api<{ importId: string }>('POST', '/v2/finance/connections/billing/import');
      expect(await finished(t, run.body.importId)).toMatchObject({ state: 'done', error: null });
      const held = billing.documents();
      expect(held.length).toBeGreaterThan(40);
      expect((await listAll(t)).length).toBe(held.length);
    } finally {
      billing.setPageCap(null);
    }
  });

  it('a run interrupted on a billing that caps its pages resumes where it really was: every document, not pages × 100 of them', async () => {
    const t = await tenant(base, 'bill');
    billing.setPageCap(40);
    // The 3rd page of the scan answers 500 once: the run resumes after two stored pages of 40.
    let scan = 0;
    billing.onPage((r) => {
      if (r.size === 100 && r.dateFrom === null && ++scan === 3) billing.failRequest(0, 500);
    });
    const mark = billing.requests().length;
    try {
      expect((await connect(t, billing.url)).status).toBe(200);
      const run = await t.api<{ importId: string }>('POST', '/v2/finance/connections/billing/import');
      // Before, the resumed run counted its two stored pages of 40 as 200 documents, so it
      // reached recordsTotal 120 documents early and ended done without the oldest, for good.
      expect(await finished(t, run.body.importId)).toMatchObject({ state: 'done', error: null });
      expect(scanPages(mark).filter((r) => r.status === 500)).toHaveLength(1);
      const keys = (xs: Array<{ type: string; id: string }>) => xs.map((d) => `${d.type}:${d.id}`).sort();
      const held = billing.documents();
      expect(held.length).toBeGreaterThan(40 * 3);
      expect(keys(await listAll(t))).toEqual(keys(held));
    } finally {
      billing.onPage(null);
      billing.setPageCap(null);
    }
  }, 120_000);

  it('float rubles (1.0E7, an unrounded VAT), date-only deadlines and a status 001 does not list: the run is done, sums exact, the unknown ones set aside with their reason', async () => {
    const t = await tenant(base, 'bill');
    const held0 = honest.documents();
    const middle = held0[150]!.date;
    // 10 000 000 ₽ (a Java double writes 1.0E7) and a bill CANCELLED between two of the scan's pages.
    honest.insert({ id: '900001', type: 'BILL', status: 'AWAITING_PAYMENT', title: 'big', date: middle, vatSum: 166_666_667, totalSum: 1_000_000_000, balanceSum: 1_000_000_000, items: [], relations: [], written: { vatSum: '1666666.6666666667' } });
    honest.insert({ id: '900002', type: 'BILL', status: 'CANCELLED', title: 'cancelled', date: middle, vatSum: 0, totalSum: 100_000, balanceSum: 100_000, items: [], relations: [] });
    // One cancelled yesterday, within the next run's trailing window: the billing corrects it later.
    honest.insert({ id: '900003', type: 'BILL', status: 'CANCELLED', title: 'fixed later', date: billingDate(new Date(Date.now() - DAY)), vatSum: 0, totalSum: 5_000, balanceSum: 5_000, items: [], relations: [] });
    const held = honest.documents();
    const known = new Set<string>(['NEW', 'AWAITING_PAYMENT', 'PARTIALLY_PAID', 'PAID', 'EXPIRED']);
    const cancelled = held.filter((d) => d.status !== undefined && !known.has(d.status));
    const mapped = held.filter((d) => !cancelled.includes(d));
    // What the fake must produce for this to test anything.
    expect(cancelled.length).toBeGreaterThan(1);
    expect(held.filter((d) => d.written?.vatSum).length).toBeGreaterThan(100);
    expect(held.some((d) => d.type === 'EXPENSE' && d.deadline?.length === 10)).toBe(true);

    expect((await connect(t, honest.url, honest.token)).status).toBe(200);
    const run = await t.api<{ importId: string }>('POST', '/v2/finance/connections/billing/import');
    const done = await finished(t, run.body.importId);
    // Before, the first float sum failed the run (`rejected`), and every later run at that page.
    expect(done).toMatchObject({ state: 'done', error: null, rejected: cancelled.length });

    const key = (d: { type: string; id: string }) => `${d.type}:${d.id}`;
    const listed = await listAll(t);
    expect(listed.map(key).sort()).toEqual(mapped.map(key).sort());
    const byKey = new Map(listed.map((d) => [key(d), d]));
    for (const h of mapped) {
      const p = byKey.get(key(h))!;
      expect({ status: p.status ?? undefined, vat: p.vatSum, total: p.totalSum, balance: p.balanceSum, deadline: p.deadline ?? undefined }).toEqual({
        status: h.status,
        vat: h.vatSum,
        total: h.totalSum,
        balance: h.balanceSum,
        deadline: h.deadline,
      });
      expect(p.items.map((i) => [i.price, i.totalSum])).toEqual((h.items ?? []).map((i) => [i.price, i.totalSum]));
      expect(p.relations.map((r) => r.relationSum)).toEqual(h.relations.map((r) => r.relationSum));
    }
    expect(byKey.get('BILL:900001')).toMatchObject({ totalSum: 1_000_000_000, vatSum: 166_666_667 });

    // Set aside, visible with the reason and what the billing sent.
    const rejected = await t.api<Array<{ type: string; id: string; date: string; reason: string; raw: Record<string, unknown>; importId: string }>>('GET', '/v2/finance/billing/rejected?size=1000');
    expect(rejected.status).toBe(200);
    expect(rejected.body.map(key).sort()).toEqual(cancelled.map(key).sort());
    const one = rejected.body.find((r) => r.id === '900002')!;
    expect(one).toMatchObject({ type: 'BILL', date: middle, importId: run.body.importId, reason: expect.stringMatching(/status "CANCELLED" is not one of/) });
    expect(one.raw).toMatchObject({ id: '900002', status: 'CANCELLED', totalSum: 1000 });
    expect(await listAll(await tenant(base, 'bill'))).toEqual([]);
    expect((await (await tenant(base, 'bill')).api<unknown[]>('GET', '/v2/finance/billing/rejected')).body).toEqual([]);

    // The billing corrects the recent one: the next run reads it within its window and stores it,
    // and it is no longer set aside; the older ones stay set aside.
    honest.payBills(['900003'], 'PAID');
    const again = await t.api<{ importId: string }>('POST', '/v2/finance/connections/billing/import');
    expect(again.body.importId).not.toBe(run.body.importId);
    expect(await finished(t, again.body.importId)).toMatchObject({ state: 'done', error: null });
    expect((await listAll(t)).find((d) => d.id === '900003')).toMatchObject({ type: 'BILL', status: 'PAID', totalSum: 5_000 });
    const still = (await t.api<Array<{ type: string; id: string }>>('GET', '/v2/finance/billing/rejected?size=1000')).body;
    expect(still.map(key).sort()).toEqual(cancelled.filter((d) => d.id !== '900003').map(key).sort());
  }, 120_000);

  it("documents of one second that a page boundary splits, in an order the billing changes on every request, are all imported (a resumed run too)", async () => {
    const t = await tenant(base, 'bill');
    // Two seconds of many documents each, both across a boundary of the scan's pages of 100:
    // 70 more beside the document at position 1,050 (its second spans 1,100), and 150 beside
    // the one at 450 (more than a page: that second is asked in one page of its own size).
    const at = (i: number) => billing.documents()[i]!.date;
    const wide = at(450);
    const split = at(1_050);
    billing.addDocuments(150, { date: wide });
    billing.addDocuments(70, { date: split });
    billing.setTieOrder('shuffled');
    // The page after the split second's boundary fails once: the run resumes there not knowing
    // where the previous page ended.
    let failed = false;
    billing.onPage((r) => {
      if (!failed && r.size === 100 && r.dateFrom === null && r.page === 12) {
        failed = true;
        billing.failRequest(0, 503);
      }
    });
    try {
      expect((await connect(t, billing.url)).status).toBe(200);
      const run = await t.api<{ importId: string }>('POST', '/v2/finance/connections/billing/import');
      expect(await finished(t, run.body.importId)).toMatchObject({ state: 'done', error: null });
      expect(failed).toBe(true);
      const keys = (xs: Array<{ type: string; id: string }>) => xs.map((d) => `${d.type}:${d.id}`).sort();
      const held = billing.documents();
      const listed = await listAll(t);
      expect(keys(listed)).toEqual(keys(held));
    } finally {
      billing.onPage(null);
      billing.setTieOrder('stable');
    }
  }, 120_000);

  it('a baseUrl the guard refuses is a 400 naming settings.baseUrl, and the billing is never called', async () => {
    const t = await tenant(base, 'bill');
    const refused = [outsider.url, 'http://169.254.169.254/api', 'https://10.1.2.3', 'https://localhost:8443'];
    for (const baseUrl of refused) {
      const res = await connect(t, baseUrl, outsider.token);
      expect(res.status).toBe(400);
      expect(Object.keys((res.body as { errors?: Record<string, unknown> }).errors ?? {})).toContain('settings.baseUrl');
    }
    expect(outsider.requests()).toEqual([]);
    expect((await connect(t, 'not a url')).status).toBe(400);
    expect((await t.api('GET', '/v2/finance/connections')).body).toEqual([]);
  }, 60_000);
});
