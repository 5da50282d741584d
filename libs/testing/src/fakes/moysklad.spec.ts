import { HttpClient, OutcomeUnknown, type HttpResponse } from '@papka/http-client';
import { randomUUID } from 'node:crypto';
import { startFakeMoysklad, type FakeMoysklad, type FakeMoyskladOptions, type MoyskladJson } from './moysklad';

type Answer = { status: number; headers: HttpResponse['headers']; body: unknown };

describe(startFakeMoysklad.name, () => {
  let sut: FakeMoysklad;
  let http: HttpClient;

  async function start(o: FakeMoyskladOptions = {}): Promise<FakeMoysklad> {
    sut = await startFakeMoysklad(o);
    http = new HttpClient({ baseUrl: sut.url, timeoutMs: 5_000, connections: 20 });
    return sut;
  }

  afterEach(async () => {
    await http.close();
    await sut.close();
  });

  /** One call with gzip and the token unless told otherwise; errors come back as answers. */
  async function call(method: string, path: string, json?: unknown, o: { token?: string | null; gzip?: boolean } = {}): Promise<Answer> {
    const token = o.token === undefined ? sut.token : o.token;
    const headers: Record<string, string> = { ...(o.gzip === false ? {} : { 'accept-encoding': 'gzip' }), ...(token ? { authorization: `Bearer ${token}` } : {}) };
    try {
      const res = await http.request(method, path, { headers, ...(json === undefined ? {} : { json }), idempotent: true });
      return { status: res.status, headers: res.headers, body: res.body.length ? JSON.parse(res.body.toString('utf8')) : undefined };
    } catch (e) {
      const h = e as { status?: number; headers?: HttpResponse['headers']; body?: unknown };
      if (h.status === undefined) throw e;
      return { status: h.status, headers: h.headers ?? {}, body: h.body };
    }
  }

  const ref = (e: MoyskladJson): MoyskladJson => ({ meta: e.meta });
  const codeOf = (a: Answer): number | undefined => (a.body as { errors?: Array<{ code: number }> } | undefined)?.errors?.[0]?.code;
  const org = (): MoyskladJson => sut.organizations()[0];
  const item = (): MoyskladJson => sut.expenseItems()[0];
  const counterparty = async (over: MoyskladJson = {}): Promise<MoyskladJson> => (await call('POST', '/entity/counterparty', { name: 'ООО Ромашка', ...over })).body as MoyskladJson;

  it('answers 415 with no body without Accept-Encoding: gzip, and gzips every JSON answer', async () => {
    await start();
    const plain = await call('GET', '/entity/organization', undefined, { gzip: false });
    expect(plain).toMatchObject({ status: 415, body: undefined });
    const ok = await call('GET', '/entity/organization');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-encoding']).toBe('gzip');
    expect((ok.body as { rows: unknown[] }).rows).toHaveLength(1);
    expect(sut.calls({ outcome: 'no-gzip' })).toHaveLength(1);
  });

  it('refuses a missing or unknown Bearer token with 401 and the errors[] shape', async () => {
    await start();
    for (const token of [null, 'nope']) {
      const a = await call('GET', '/entity/counterparty', undefined, { token });
      expect(a.status).toBe(401);
      expect(a.body).toEqual({ errors: [expect.objectContaining({ code: 1056, error: expect.any(String), moreInfo: expect.any(String) })] });
    }
  });

  it('creates, lists by externalCode / syncId, reads, updates and deletes a counterparty', async () => {
    await start();
    const syncId = randomUUID();
    const c = await counterparty({ companyType: 'legal', inn: '7707083893', kpp: '773601001', externalCode: 'ext-1', syncId, accounts: [{ accountNumber: '40702810900000000001', bic: '044525225' }] });
    expect(c).toMatchObject({ name: 'ООО Ромашка', inn: '7707083893', externalCode: 'ext-1', syncId, meta: { type: 'counterparty' } });

    const byCode = (await call('GET', `/entity/counterparty?filter=${encodeURIComponent('externalCode=ext-1')}`)).body as { rows: MoyskladJson[]; meta: { size: number } };
    expect(byCode.rows.map((r) => r.id)).toEqual([c.id]);
    const bySync = (await call('GET', `/entity/counterparty?filter=${encodeURIComponent(`syncId=${randomUUID()};syncId=${syncId}`)}`)).body as { rows: MoyskladJson[] };
    expect(bySync.rows.map((r) => r.id)).toEqual([c.id]);
    expect(((await call('GET', `/entity/counterparty/${c.id as string}/accounts`)).body as { rows: MoyskladJson[] }).rows).toEqual([
      expect.objectContaining({ accountNumber: '40702810900000000001', bic: '044525225' }),
    ]);

    const put = await call('PUT', `/entity/counterparty/${c.id as string}`, { name: 'ООО Ромашка 2' });
    expect(put.body).toMatchObject({ id: c.id, name: 'ООО Ромашка 2', inn: '7707083893', syncId });
    expect(sut.counterparties()[0].accounts).toMatchObject({ rows: [expect.objectContaining({ accountNumber: '40702810900000000001' })] });
    expect(codeOf(await call('PUT', `/entity/counterparty/${c.id as string}`, { syncId: randomUUID() }))).toBe(1047);

    expect((await call('DELETE', `/entity/counterparty/${c.id as string}`)).status).toBe(200);
    const gone = await call('GET', `/entity/counterparty/${c.id as string}`);
    expect([gone.status, codeOf(gone)]).toEqual([404, 1021]);
    expect(sut.counterparties()).toHaveLength(0);
  });

  it('keeps each account apart: its own tokens, data and counters', async () => {
    await start();
    const other = sut.addAccount({ expenseItems: [] });
    expect((await call('POST', '/entity/counterparty', { name: 'Другой' }, { token: other.token })).status).toBe(200);
    expect(other.counterparties()).toHaveLength(1);
    expect(other.expenseItems()).toHaveLength(0);
    expect(sut.counterparties()).toHaveLength(0);
    expect(other.stats().requests).toBe(1);
    expect(sut.stats().requests).toBe(0);
  });

  it('answers a create with a known syncId with the existing entity and creates nothing', async () => {
    await start();
    const syncId = randomUUID();
    const first = await counterparty({ syncId });
    const again = await counterparty({ syncId, name: 'другое имя' });
    expect(again).toMatchObject({ id: first.id, name: 'ООО Ромашка' });
    expect(sut.counterparties()).toHaveLength(1);
  });

  it("computes an invoiceout's sum from its positions and ignores a sum sent: without positions it is 0", async () => {
    await start({ services: ['Услуги'] });
    const agent = await counterparty();
    const service = sut.services()[0]!;
    const bare = (await call('POST', '/entity/invoiceout', { organization: ref(org()), agent: ref(agent), sum: 150_050 })).body as MoyskladJson;
    expect(bare).toMatchObject({ sum: 0, positions: { meta: { size: 0 } } });
    const lines = [
      { quantity: 2, price: 10_000, assortment: ref(service) },
      { quantity: 1, price: 5_000, discount: 10, vat: 20, assortment: ref(service) },
    ];
    const included = (await call('POST', '/entity/invoiceout', { organization: ref(org()), agent: ref(agent), sum: 1, positions: lines })).body as MoyskladJson;
    expect(included).toMatchObject({ sum: 24_500, vatEnabled: true, vatIncluded: true, positions: { meta: { size: 2 } } });
    const onTop = (await call('POST', '/entity/invoiceout', { organization: ref(org()), agent: ref(agent), vatIncluded: false, positions: lines })).body as MoyskladJson;
    expect(onTop.sum).toBe(20_000 + 5_400);
    expect(sut.invoicesOut().find((i) => i.id === included.id)!.positions).toMatchObject({ rows: [{ quantity: 2, price: 10_000 }, { quantity: 1, price: 5_000, discount: 10 }] });
    // An update with positions replaces them (and the sum follows).
    const updated = (await call('PUT', `/entity/invoiceout/${included.id as string}`, { positions: [{ quantity: 3, price: 700, assortment: ref(service) }] })).body as MoyskladJson;
    expect(updated).toMatchObject({ sum: 2_100, positions: { meta: { size: 1 } } });
    const noAssortment = await call('POST', '/entity/invoiceout', { organization: ref(org()), agent: ref(agent), positions: [{ quantity: 1, price: 1 }] });
    expect([noAssortment.status, codeOf(noAssortment)]).toEqual([412, 3000]);
    const product = await call('POST', '/entity/invoiceout', { organization: ref(org()), agent: ref(agent), positions: [{ quantity: 1, price: 1, assortment: ref(agent) }] });
    expect(codeOf(product)).toBe(3007);
  });

  it('answers a bulk array item by item, links payments to invoices and refuses what the API refuses', async () => {
    await start();
    const agent = await counterparty();
    const invoice = (await call('POST', '/entity/invoiceout', { organization: ref(org()), agent: ref(agent), sum: 150_050, syncId: randomUUID() })).body as MoyskladJson;
    const good = { organization: ref(org()), agent: ref(agent), sum: 100_000, moment: '2026-11-30 00:00:00', syncId: randomUUID(), operations: [{ ...ref(invoice), linkedSum: 100_000 }] };
    const bulk = await call('POST', '/entity/paymentin', [good, { organization: ref(org()), sum: 5 }, { ...good, syncId: randomUUID(), sum: -1 }]);
    expect(bulk.status).toBe(200);
    const [ok, noAgent, negative] = bulk.body as MoyskladJson[];
    expect(ok).toMatchObject({ sum: 100_000, moment: '2026-11-30 00:00:00.000', operations: [{ linkedSum: 100_000 }] });
    expect(noAgent).toEqual({ errors: [expect.objectContaining({ code: 3000, parameter: 'agent' })] });
    expect(negative).toEqual({ errors: [expect.objectContaining({ code: 3002 })] });
    expect(sut.calls({ route: '/entity/paymentin', outcome: 'partial' })).toHaveLength(1);
    expect(sut.paymentsIn()).toHaveLength(1);
    expect(sut.invoicesOut()[0]).toMatchObject({ payedSum: 100_000, payments: [{ linkedSum: 100_000 }] });
    const inRange = async (from: string, to: string) =>
      ((await call('GET', `/entity/paymentin?filter=${encodeURIComponent(`moment>=${from};moment<${to}`)}`)).body as { rows: unknown[] }).rows.length;
    expect([await inRange('2026-11-30 00:00:00', '2026-12-01 00:00:00'), await inRange('2026-11-30 00:01:00', '2026-12-01 00:00:00')]).toEqual([1, 0]);

    const noItem = await call('POST', '/entity/paymentout', { organization: ref(org()), agent: ref(agent), sum: 1 });
    expect([noItem.status, codeOf(noItem)]).toEqual([412, 3000]);
    const invoiceOnOut = await call('POST', '/entity/paymentout', { organization: ref(org()), agent: ref(agent), sum: 1, expenseItem: ref(item()), operations: [ref(invoice)] });
    expect(codeOf(invoiceOnOut)).toBe(3007);
    expect((await call('POST', '/entity/paymentout', { organization: ref(org()), agent: ref(agent), sum: 1, expenseItem: ref(item()) })).status).toBe(200);
    expect(sut.paymentsOut()).toHaveLength(1);

    const tooMany = await call('POST', '/entity/counterparty', Array.from({ length: 1001 }, (_, i) => ({ name: `c${i}` })));
    expect(tooMany.status).toBe(413);
  });

  it('limits a token to its window with 429 / 1049 and the rate headers, and counts the burst', async () => {
    await start({ rateLimit: { limit: 3, windowMs: 60_000 } });
    const answers: Answer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await call('GET', '/entity/organization'));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[0].headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2', 'x-lognex-retry-timeinterval': '60000' });
    expect(codeOf(answers[3])).toBe(1049);
    expect(Number(answers[3].headers['x-lognex-retry-after'])).toBeGreaterThan(0);
    expect(sut.stats()).toMatchObject({ bursts: 1, max429PerMinute: 1, banned: false });
  });

  it('refuses a sixth request in parallel with 429 / 1073 and X-Lognex-Auth: 429005', async () => {
    await start({ latencyMs: 300 });
    const answers = await Promise.all(Array.from({ length: 7 }, () => call('GET', '/entity/organization')));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(2);
    expect(refused.map(codeOf)).toEqual([1073, 1073]);
    expect(refused[0].headers['x-lognex-auth']).toBe('429005');
    expect(sut.stats()).toMatchObject({ parallelRejections: 2 });
    expect(sut.stats().maxParallel).toBeGreaterThan(5);
  });

  it('records a ban when identical failing requests or 429s cross the threshold', async () => {
    await start({ banThreshold: 5 });
    for (let i = 0; i < 5; i++) await call('GET', '/entity/counterparty/00000000-0000-0000-0000-000000000000');
    expect(sut.stats()).toMatchObject({ maxIdenticalFailuresPerMinute: 5, banned: false });
    await call('GET', '/entity/counterparty/00000000-0000-0000-0000-000000000000');
    expect(sut.stats()).toMatchObject({ maxIdenticalFailuresPerMinute: 6, banned: true, banReasons: [expect.stringContaining('identical')] });
  });

  it('answers a tariff block with 403 and its code until lifted', async () => {
    await start();
    sut.setTariffBlock(1070);
    const blocked = await call('GET', '/entity/organization');
    expect([blocked.status, codeOf(blocked)]).toEqual([403, 1070]);
    sut.setTariffBlock(null);
    expect((await call('GET', '/entity/organization')).status).toBe(200);
  });

  it('commit-then-drop applies the write and resets the socket; the resend with its syncId creates nothing', async () => {
    await start();
    sut.setCommitThenDrop(1);
    const body = { name: 'ООО Дроп', syncId: randomUUID() };
    await expect(http.request('POST', '/entity/counterparty', { headers: { 'accept-encoding': 'gzip', authorization: `Bearer ${sut.token}` }, json: body })).rejects.toBeInstanceOf(OutcomeUnknown);
    expect(sut.counterparties()).toHaveLength(1);
    expect(sut.calls({ outcome: 'dropped' })).toHaveLength(1);
    sut.clearFaults();
    expect(((await call('POST', '/entity/counterparty', body)).body as MoyskladJson).id).toBe(sut.counterparties()[0].id);
    expect(sut.counterparties()).toHaveLength(1);
  });
});
