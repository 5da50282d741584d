import { billingDate, billingMoney, javaDouble, startFakeBilling, type FakeBilling, type FakeBillingOptions } from './billing';

interface Page {
  success: boolean;
  recordsTotal: number;
  documents: Array<Record<string, unknown> & { id: string; type: string; date: string; status?: string; relations: unknown[] }>;
  message?: string;
}

describe(startFakeBilling.name, () => {
  let sut: FakeBilling;

  async function start(o: FakeBillingOptions = {}): Promise<FakeBilling> {
    sut = await startFakeBilling(o);
    return sut;
  }

  afterEach(async () => {
    await sut.close();
  });

  async function list(query: Record<string, string | number> = {}, token: string | null = sut.token): Promise<{ status: number; text: string; body: Page }> {
    const q = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    const res = await fetch(`${sut.url}/api/lite/billing/documents?${q}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as Page };
  }

  it('wants the bearer token', async () => {
    await start({ documents: 3 });
    expect((await list({}, null)).status).toBe(401);
    expect((await list({}, 'wrong')).status).toBe(401);
    expect((await list({ page: 1, size: 10 })).body).toMatchObject({ success: true, recordsTotal: 3 });
    expect(sut.requests().map((r) => r.authorized)).toEqual([false, false, true]);
  });

  it('generates all four types from a seed, the same each time, newest first', async () => {
    await start({ documents: 400, seed: 7 });
    const first = sut.documents();
    const types = new Set(first.map((d) => d.type));
    expect([...types].sort()).toEqual(['BILL', 'EXPENSE', 'PAYMENT', 'REPORT']);
    expect(first.every((d, i) => i === 0 || first[i - 1]!.date >= d.date)).toBe(true);
    const payments = first.filter((d) => d.type === 'PAYMENT' && d.relations.length > 0);
    expect(payments.length).toBeGreaterThan(10);
    for (const p of payments) {
      expect(p.relations.reduce((s, r) => s + r.relationSum, 0)).toBe(p.totalSum);
      for (const r of p.relations) expect(sut.document('BILL', r.id)).toBeDefined();
    }
    await sut.close();
    const again = await startFakeBilling({ documents: 400, seed: 7, now: () => new Date() });
    expect(again.documents().map((d) => `${d.type}:${d.id}:${d.totalSum}`)).toEqual(first.map((d) => `${d.type}:${d.id}:${d.totalSum}`));
    sut = again;
  });

  it("orders one second's documents anew on each request when ties are shuffled, and keeps the dates in order", async () => {
    await start({ documents: 30, seed: 3 });
    sut.addDocuments(40, { date: '2026-01-15 10:00:00' });
    const keys = (b: Page) => b.documents.map((d) => `${d.type}:${d.id}`);
    const stable = keys((await list({ page: 1, size: 100 })).body);
    expect(keys((await list({ page: 1, size: 100 })).body)).toEqual(stable);
    sut.setTieOrder('shuffled');
    const orders = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { body } = await list({ page: 1, size: 100 });
      expect(new Set(keys(body))).toEqual(new Set(stable));
      expect(body.documents.every((d, j) => j === 0 || body.documents[j - 1]!.date >= d.date)).toBe(true);
      orders.add(keys(body).join());
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('answers a page below the base as the first page with belowBase: first', async () => {
    await start({ documents: 5, pageBase: 1, belowBase: 'first' });
    const zero = await list({ page: 0, size: 2 });
    expect(zero.status).toBe(200);
    expect(zero.body.documents).toEqual((await list({ page: 1, size: 2 })).body.documents);
  });

  it('writes sums as 001 does: decimal text with two decimals, items with non-multiplicative totals', async () => {
    await start({ documents: 200 });
    const { text, body } = await list({ page: 1, size: 200 });
    const bill = sut.documents().find((d) => d.type === 'BILL')!;
    expect(text).toContain(`"totalSum":${billingMoney(bill.totalSum)}`);
    expect(text).toMatch(/"vatSum":\d+\.\d{2}[,}]/);
    const odd = sut.documents().flatMap((d) => d.items ?? []).filter((i) => Number(i.amount) * i.price !== i.totalSum);
    expect(odd.length).toBeGreaterThan(0);
    expect(body.documents.find((d) => d.type === 'PAYMENT')).not.toHaveProperty('items');
    expect(billingMoney(-100_000)).toBe('-1000.00');
    expect(billingMoney(7)).toBe('0.07');
  });

  it("writes float rubles as a Java double with sums: 'float' (1.0E7, an unrounded VAT), other statuses and date-only deadlines when asked", async () => {
    expect([javaDouble(1000), javaDouble(75446.5), javaDouble(1e7), javaDouble(12345678.9), javaDouble(-1000), javaDouble(0.0005), javaDouble(0), javaDouble(1000 / 6)]).toEqual([
      '1000.0',
      '75446.5',
      '1.0E7',
      '1.23456789E7',
      '-1000.0',
      '5.0E-4',
      '0.0',
      '166.66666666666666',
    ]);
    await start({ documents: 300, seed: 4, sums: 'float', extraStatuses: ['CANCELLED'], deadlines: 'date' });
    sut.insert({ id: '99999', type: 'BILL', status: 'AWAITING_PAYMENT', title: 'big', date: '2020-01-01 00:00:00', vatSum: 0, totalSum: 1_000_000_000, balanceSum: 1_000_000_000, items: [], relations: [] });
    const { text, body } = await list({ page: 1, size: 1000 });
    expect(text).toContain('"totalSum":1.0E7');
    expect(text).toMatch(/"vatSum":\d+\.\d{3,}[,}]/); // never rounded
    expect(text).toContain('"balanceSum":0.0,');
    const unrounded = sut.documents().filter((d) => d.written?.vatSum);
    expect(unrounded.length).toBeGreaterThan(100);
    // The kopecks held are the written value rounded half up.
    for (const d of unrounded) expect(Math.abs(Number(d.written!.vatSum) * 100 - d.vatSum)).toBeLessThanOrEqual(0.500001);
    expect(body.documents.some((d) => d.status === 'CANCELLED')).toBe(true);
    expect(body.documents.filter((d) => d.type === 'EXPENSE').every((d) => /^\d{4}-\d{2}-\d{2}$/.test(String(d.deadline)))).toBe(true);
    // Without the options, a seed generates what it always did.
    const plain = await startFakeBilling({ documents: 300, seed: 4 });
    try {
      expect(plain.documents().some((d) => d.status === 'CANCELLED' || d.written)).toBe(false);
      expect(plain.documents().filter((d) => d.type === 'EXPENSE').every((d) => d.deadline!.length === 19)).toBe(true);
    } finally {
      await plain.close();
    }
  });

  it('pages with page and size from base 1, or 0, and refuses a page below the base', async () => {
    await start({ documents: 25 });
    const all = sut.documents().map((d) => d.id);
    expect((await list({ page: 1, size: 10 })).body.documents.map((d) => d.id)).toEqual(all.slice(0, 10));
    expect((await list({ page: 3, size: 10 })).body.documents.map((d) => d.id)).toEqual(all.slice(20, 25));
    expect((await list({ page: 4, size: 10 })).body.documents).toEqual([]);
    expect((await list({ page: 0, size: 10 })).status).toBe(400);
    expect((await list({ page: 1, size: 100_000 })).status).toBe(400);
    await sut.close();
    await start({ documents: 25, pageBase: 0 });
    expect((await list({ page: 0, size: 10 })).body.documents.map((d) => d.id)).toEqual(sut.documents().slice(0, 10).map((d) => d.id));
  });

  it('filters by date_from/date_to (inclusive, 001 format), filter_types and id (the number)', async () => {
    await start({ documents: 300 });
    const docs = sut.documents();
    const to = docs[50]!.date;
    const from = docs[150]!.date;
    const iso = (d: string) => d.replace(' ', 'T');
    const res = await list({ page: 1, size: 1000, date_from: iso(from), date_to: iso(to), filter_types: 'BILL,PAYMENT' });
    const expected = docs.filter((d) => d.date >= from && d.date <= to && (d.type === 'BILL' || d.type === 'PAYMENT'));
    expect(res.body.recordsTotal).toBe(expected.length);
    expect(res.body.documents.map((d) => `${d.type}:${d.id}`)).toEqual(expected.map((d) => `${d.type}:${d.id}`));
    expect((await list({ id: docs[3]!.id })).body.documents.map((d) => d.id)).toEqual([docs[3]!.id]);
    expect((await list({ date_to: '19.02.2020' })).status).toBe(400);
  });

  it('documents inserted between page fetches shift an unfrozen scan, not one with date_to frozen', async () => {
    await start({ documents: 30 });
    const frozen = billingDate(new Date(Date.now() - 1000)).replace(' ', 'T');
    sut.onPage((r) => {
      if (r.page === 2) sut.addDocuments(3);
    });
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) seen.push(...(await list({ page, size: 10, date_to: frozen })).body.documents.map((d) => `${d.type}:${d.id}`));
    expect(new Set(seen).size).toBe(30);
    const drifted: string[] = [];
    for (let page = 1; page <= 4; page++) drifted.push(...(await list({ page, size: 10 })).body.documents.map((d) => `${d.type}:${d.id}`));
    expect(drifted.length).toBeGreaterThan(new Set(drifted).size); // repeats: the new ones pushed older ones to the next page
  });

  it('payBills changes the status only', async () => {
    await start({ documents: 200 });
    const [open] = sut.openBills();
    const before = JSON.stringify({ ...open, status: undefined });
    sut.payBills([open!.id]);
    expect(sut.document('BILL', open!.id)!.status).toBe('PAID');
    expect(JSON.stringify({ ...sut.document('BILL', open!.id), status: undefined })).toBe(before);
  });

  it('fails the N-th request as asked, then answers again', async () => {
    await start({ documents: 5 });
    sut.failRequest(2, 500);
    sut.failRequest(3, 'reset');
    expect((await list({ page: 1, size: 5 })).status).toBe(200);
    expect((await list({ page: 1, size: 5 })).status).toBe(500);
    await expect(list({ page: 1, size: 5 })).rejects.toThrow();
    expect((await list({ page: 1, size: 5 })).status).toBe(200);
    expect(sut.requests().map((r) => r.status)).toEqual([200, 500, 0, 200]);
  });
});
