import { HttpClient, OutcomeUnknown } from '@papka/http-client';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeAdesk, type AdeskWebhookEnvelope, type FakeAdesk, type FakeAdeskOptions } from './adesk';

type Body = Record<string, unknown> & { success?: boolean; code?: number; message?: string; errorCode?: string };
type Form = Record<string, string | string[]>;

function formBody(form: Form): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

describe(startFakeAdesk.name, () => {
  let sut: FakeAdesk;

  async function start(o: FakeAdeskOptions = {}): Promise<FakeAdesk> {
    sut = await startFakeAdesk(o);
    return sut;
  }

  afterEach(async () => {
    await sut.close();
  });

  /** A v1 call, token in the query as v1 wants it. */
  async function v1(method: 'GET' | 'POST', path: string, params: Form = {}, token: string | null = sut.token): Promise<Body> {
    const q = new URLSearchParams(token === null ? {} : { api_token: token });
    if (method === 'GET') for (const [k, v] of Object.entries(params)) q.set(k, String(v));
    const res = await fetch(`${sut.url}${path}?${q}`, {
      method,
      headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      body: method === 'POST' ? formBody(params) : undefined,
    });
    return (await res.json()) as Body;
  }

  /** A v2 call; the token in the X-API-Token header unless `inQuery`. */
  async function v2(path: string, json: unknown, o: { inQuery?: boolean; token?: string; signal?: AbortSignal } = {}): Promise<Body> {
    const token = o.token ?? sut.token;
    const res = await fetch(`${sut.url}${path}${o.inQuery ? `?api_token=${token}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.inQuery ? {} : { 'x-api-token': token }) },
      body: JSON.stringify(json),
      signal: o.signal,
    });
    return (await res.json()) as Body;
  }

  const bank = (): number => sut.bankAccounts()[0].id;
  const tx = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'income', amount: 2010, date: '2025-07-01', bankAccountId: bank(), ...over });

  describe('auth', () => {
    it('accepts ?api_token on v1 and v2 and X-API-Token on v2 only', async () => {
      await start();
      expect((await v1('GET', '/v1/legal-entities')).success).toBe(true);
      expect((await v2('/v2/transactions/create', { transactions: [tx()] }, { inQuery: true })).success).toBe(true);
      expect((await v2('/v2/transactions/create', { transactions: [tx()] })).success).toBe(true);

      const headerOnV1 = await fetch(`${sut.url}/v1/legal-entities`, { headers: { 'x-api-token': sut.token } });
      expect(await headerOnV1.json()).toEqual({ message: 'Auth required', code: 401, success: false });
      expect(sut.transactions()).toHaveLength(2);
    });

    it('answers a missing or wrong token with the body code 401 and HTTP 200 by default', async () => {
      await start();
      const res = await fetch(`${sut.url}/v1/contractors?api_token=nope`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ message: 'Auth required', code: 401, success: false });
      expect(await v1('GET', '/v1/contractors', {}, null)).toMatchObject({ code: 401, success: false });
      expect(sut.calls({ outcome: 'unauthorized' })).toHaveLength(2);
    });

    it('mirrors the body code in the HTTP status with errorHttpStatus: code', async () => {
      await start({ errorHttpStatus: 'code' });
      expect((await fetch(`${sut.url}/v1/contractors?api_token=nope`)).status).toBe(401);
      sut.blockMethod('/v1/contractors', Infinity);
      expect((await fetch(`${sut.url}/v1/contractors?api_token=${sut.token}`)).status).toBe(429);
    });

    it('keeps accounts apart: another token sees none of the first one\'s objects', async () => {
      await start();
      const other = sut.addAccount();
      const created = await v1('POST', '/v1/contractor', { name: 'ООО Ромашка' });
      const id = (created.contractor as { id: number }).id;
      expect(await v1('GET', `/v1/contractor/${id}`, {}, other.token)).toMatchObject({ success: false });
      expect((await v1('GET', '/v1/contractors', {}, other.token)).contractors).toEqual([]);
      expect(other.contractors()).toEqual([]);
      expect(sut.contractors()).toHaveLength(1);
    });
  });

  describe('body-coded errors', () => {
    it('flips "payment required" (code 21) per token, on every method, and back', async () => {
      await start();
      const other = sut.addAccount();
      sut.setPaymentRequired(sut.token, true);
      expect(await v1('GET', '/v1/bank-accounts')).toEqual({ message: 'Payment required', code: 21, success: false });
      expect(await v2('/v2/transactions/create', { transactions: [tx()] })).toMatchObject({ code: 21, success: false });
      expect((await v1('GET', '/v1/bank-accounts', {}, other.token)).success).toBe(true);
      expect(sut.transactions()).toEqual([]);

      sut.setPaymentRequired(sut.token, false);
      expect((await v1('GET', '/v1/bank-accounts')).success).toBe(true);
    });

    it('blocks one method with code 429 while the others answer, until the block ends', async () => {
      await start();
      sut.blockMethod('/v2/transactions/create', Infinity);
      expect(await v2('/v2/transactions/create', { transactions: [tx()] })).toEqual({ message: 'Too many requests', code: 429, success: false });
      expect((await v1('POST', '/v1/contractor', { name: 'ИП Петров' })).success).toBe(true);
      expect((await v1('GET', '/v1/transactions')).success).toBe(true);
      expect(sut.calls({ path: '/v2/transactions/create', outcome: 'rate-limited' })).toHaveLength(1);
      expect(sut.transactions()).toEqual([]);

      sut.unblockMethod('/v2/transactions/create');
      expect((await v2('/v2/transactions/create', { transactions: [tx()] })).success).toBe(true);
    });

    it('blocks a route with ids for every id, and one verb only when asked', async () => {
      await start();
      const c = (await v1('POST', '/v1/contractor', { name: 'ИП Петров' })).contractor as { id: number };
      sut.blockMethod('POST /v1/contractor/:id', Infinity);
      expect(await v1('POST', `/v1/contractor/${c.id}`, { name: 'ИП Петров П.' })).toMatchObject({ code: 429 });
      expect((await v1('GET', `/v1/contractor/${c.id}`)).success).toBe(true);
      expect(sut.calls({ path: '/v1/contractor/:id', outcome: 'rate-limited' })).toEqual([
        expect.objectContaining({ method: 'POST', path: `/v1/contractor/${c.id}` }),
      ]);
    });

    it('blocks a method by itself when it is called over the rate limit, and only that method', async () => {
      await start({ rateLimit: { calls: 2, perMs: 60_000, blockMs: 60_000 } });
      expect((await v1('GET', '/v1/contractors')).success).toBe(true);
      expect((await v1('GET', '/v1/contractors', { q: 'x' })).success).toBe(true);
      expect(await v1('GET', '/v1/contractors')).toMatchObject({ code: 429, success: false });
      expect((await v1('GET', '/v1/projects')).success).toBe(true);
      expect(sut.calls({ outcome: 'rate-limited' }).map((c) => c.route)).toEqual(['/v1/contractors']);

      sut.unblockMethod('/v1/contractors');
      expect((await v1('GET', '/v1/contractors')).success).toBe(true);
    });

    it('lifts a timed block by itself', async () => {
      await start();
      sut.blockMethod('/v1/contractors', 1);
      const until = Date.now() + 1;
      while (Date.now() <= until) await new Promise((r) => setTimeout(r, 1));
      expect((await v1('GET', '/v1/contractors')).success).toBe(true);
    });

    it('answers v1 validation as errors by field, 200 and success:false', async () => {
      await start();
      expect(await v1('POST', '/v1/contractor', {})).toEqual({ success: false, errors: { name: ['Обязательное поле.'] } });
      expect(await v1('POST', '/v1/requisites', { contractor: '999999', name: 'x' })).toMatchObject({ success: false, errors: { contractor: [expect.any(String)] } });
      expect(sut.contractors()).toEqual([]);
    });

    it('reads v1 bodies as forms: JSON sent to v1 is a missing field', async () => {
      await start();
      const res = await fetch(`${sut.url}/v1/contractor?api_token=${sut.token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'ООО Ромашка' }),
      });
      expect(await res.json()).toMatchObject({ success: false, errors: { name: [expect.any(String)] } });
    });
  });

  describe('v2 bulk transactions', () => {
    it('creates in input order, stores importedId, answers amounts as strings and dates in both formats', async () => {
      await start();
      const res = await v2('/v2/transactions/create', {
        transactions: [tx({ importedId: 'papka:a', amount: 2010 }), tx({ type: 'outcome', amount: 0.29, date: '2025-07-02' }), tx({ importedId: 'papka:c', amount: 1234.5 })],
      });
      const answered = res.transactions as Array<Record<string, unknown>>;
      expect(answered.map((t) => [t.amount, t.type, t.date, t.dateIso])).toEqual([
        ['2010.00', 1, '01.07.2025', '2025-07-01'],
        ['0.29', 2, '02.07.2025', '2025-07-02'],
        ['1234.50', 1, '01.07.2025', '2025-07-01'],
      ]);
      expect(answered[0].importedId).toBe('papka:a');
      expect(answered[1].importedId).toMatch(/^adesk:[0-9a-f-]{36}$/);
      expect(sut.transactions().map((t) => [t.importedId, t.amount, t.source])).toEqual([
        ['papka:a', '2010.00', 'api-v2'],
        [answered[1].importedId, '0.29', 'api-v2'],
        ['papka:c', '1234.50', 'api-v2'],
      ]);
    });

    it('accepts a duplicate importedId by default: two transactions', async () => {
      await start();
      await v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' })] });
      expect((await v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' })] })).success).toBe(true);
      expect(sut.transactions().filter((t) => t.importedId === 'papka:1')).toHaveLength(2);
    });

    it('rejects or ignores a duplicate importedId when configured so', async () => {
      await start({ duplicateImportedId: 'reject' });
      await v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' })] });
      expect(await v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:2' }), tx({ importedId: 'papka:1' })] })).toMatchObject({
        success: false,
        errorCode: 'imported_id_already_exists',
      });
      expect(sut.transactions()).toHaveLength(1);
      await sut.close();

      await start({ duplicateImportedId: 'ignore' });
      const first = await v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' })] });
      const again = await v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' })] });
      expect((again.transactions as Array<{ id: number }>)[0].id).toBe((first.transactions as Array<{ id: number }>)[0].id);
      expect(sut.transactions()).toHaveLength(1);
    });

    it('fails the whole batch, with no item index, when one item is on a closed bank account', async () => {
      await start();
      const closed = sut.addBankAccount({ name: 'Старый счёт' });
      sut.closeBankAccount(closed.id);
      const res = await v2('/v2/transactions/create', { transactions: [tx(), tx({ bankAccountId: closed.id }), tx()] });
      expect(res).toEqual({ success: false, message: 'Cannot use closed bank account', errorCode: 'cannot_use_closed_bank_account' });
      expect(sut.transactions()).toEqual([]);
      expect((await v1('GET', '/v1/bank-accounts', { status: 'open' })).bankAccounts).toEqual([expect.objectContaining({ id: bank() })]);
    });

    it.each(['type', 'bankAccountId', 'amount', 'date'])('fails the whole batch when an item lacks %s', async (field) => {
      await start();
      const bad = tx();
      delete bad[field];
      expect(await v2('/v2/transactions/create', { transactions: [tx(), bad] })).toMatchObject({ success: false, errorCode: 'validation_error' });
      expect(sut.transactions()).toEqual([]);
    });

    it('rejects a date that is not YYYY-MM-DD and a category of the other type', async () => {
      await start();
      const outcomeCategory = sut.categories().find((c) => c.type === 2)?.id;
      expect(await v2('/v2/transactions/create', { transactions: [tx({ date: '01.07.2025' })] })).toMatchObject({ success: false });
      expect(await v2('/v2/transactions/create', { transactions: [tx({ categoryId: outcomeCategory })] })).toMatchObject({ errorCode: 'category_type_mismatch' });
      expect(sut.transactions()).toEqual([]);
    });

    it('updates in place (same id) and removes by transactionsIds', async () => {
      await start();
      const created = (await v2('/v2/transactions/create', { transactions: [tx(), tx()] })).transactions as Array<{ id: number }>;
      const updated = await v2('/v2/transactions/update', { transactions: [{ id: created[0].id, amount: 3010 }] });
      expect(updated.transactions).toEqual([expect.objectContaining({ id: created[0].id, amount: '3010.00' })]);
      expect(await v2('/v2/transactions/remove', { transactionsIds: [created[1].id] })).toEqual({ success: true });
      expect(sut.transactions().map((t) => [t.id, t.amount])).toEqual([[created[0].id, '3010.00']]);
    });
  });

  describe('v1 objects and list filters', () => {
    it('seeds an open bank account with a 20-digit number as a string and a legal entity', async () => {
      await start();
      const res = await v1('GET', '/v1/bank-accounts', { status: 'open' });
      const [account] = res.bankAccounts as Array<Record<string, unknown>>;
      expect(account.number).toMatch(/^\d{20}$/);
      expect(account.legalEntity).toEqual({ id: sut.legalEntities()[0].id, name: sut.legalEntities()[0].name });
      expect((await v1('GET', '/v1/bank-accounts', { status: 'closed' })).bankAccounts).toEqual([]);
      expect((await v1('GET', '/v1/transactions/categories', { type: 'income' })).categories).toEqual([expect.objectContaining({ type: 1 })]);
    });

    it('keeps the bank balance current across API and Adesk-side changes', async () => {
      await start();
      const balance = async (): Promise<unknown> => ((await v1('GET', '/v1/bank-accounts')).bankAccounts as Array<{ amount: string }>)[0].amount;
      expect(await balance()).toBe('0.00');
      sut.createTransactionInAdesk({ type: 'income', amount: 100, date: '2025-07-01' });
      expect(await balance()).toBe('100.00');
      const t = (await v2('/v2/transactions/create', { transactions: [tx({ type: 'outcome', amount: 30.5 })] })).transactions as Array<{ id: number }>;
      expect(await balance()).toBe('69.50');
      await v2('/v2/transactions/remove', { transactionsIds: [t[0].id] });
      expect(await balance()).toBe('100.00');
    });

    it('finds a contractor by the INN of its requisites, and by name, with no paging', async () => {
      await start();
      const a = (await v1('POST', '/v1/contractor', { name: 'ООО Ромашка', description: '[papka:1]' })).contractor as { id: number };
      await v1('POST', '/v1/contractor', { name: 'ИП Петров' });
      const req = await v1('POST', '/v1/requisites', { contractor: String(a.id), name: 'ООО «Ромашка»', inn: '0123456789', kpp: '012301001', bank_account_number: '40702810900000000001', bank_code: '044525104' });
      expect(req.requisites).toMatchObject({ inn: '0123456789', bankCode: '044525104' });

      expect((await v1('GET', '/v1/contractors', { inn: '0123456789' })).contractors).toEqual([expect.objectContaining({ id: a.id })]);
      expect((await v1('GET', '/v1/contractors', { q: 'петров' })).contractors).toEqual([expect.objectContaining({ name: 'ИП Петров' })]);
      expect(((await v1('GET', '/v1/contractors', { start: '0', length: '1' })).contractors as unknown[]).length).toBe(2);
      expect((await v1('GET', `/v1/contractor/${a.id}/requisites`)).requisites).toEqual([expect.objectContaining({ bankAccountNumber: '40702810900000000001' })]);
      expect(sut.requisites()).toEqual([expect.objectContaining({ contractorId: a.id, inn: '0123456789' })]);
    });

    it('enforces the documented requisites limits (an address over 100 characters)', async () => {
      await start();
      const a = (await v1('POST', '/v1/contractor', { name: 'ООО Ромашка' })).contractor as { id: number };
      expect(await v1('POST', '/v1/requisites', { contractor: String(a.id), name: 'x', address: 'я'.repeat(101) })).toMatchObject({ success: false, errors: { address: [expect.any(String)] } });
      expect(sut.requisites()).toEqual([]);
    });

    it('creates deal projects with their contractor and plan income, and lists them by name', async () => {
      await start();
      const c = (await v1('POST', '/v1/contractor', { name: 'ООО Ромашка' })).contractor as { id: number };
      const p = await v1('POST', '/v1/project', { name: 'Сделка 1', type: 'deal', description: 'x [papka:42]', plan_income: '1500.5', deal_contractor: String(c.id) });
      expect(p.project).toMatchObject({ type: 'deal', planIncome: '1500.50', deal_contractor: { id: c.id, name: 'ООО Ромашка' } });
      await v1('POST', '/v1/project', { name: 'Внутренний', deal_contractor: String(c.id) });
      expect(sut.projects().map((x) => [x.name, x.type, x.dealContractorId])).toEqual([
        ['Сделка 1', 'deal', c.id],
        ['Внутренний', 'project', null],
      ]);
      expect((await v1('GET', '/v1/projects', { status: 'all', q: 'сделка' })).projects).toEqual([expect.objectContaining({ description: 'x [papka:42]' })]);
      const page = await v1('GET', '/v1/projects', { status: 'all', start: '1', length: '1' });
      expect(page).toMatchObject({ recordsTotal: 1, recordsFiltered: 2 });
    });

    it('lists transactions by range, bank account, type, project and contractor, without importedId', async () => {
      await start();
      const second = sut.addBankAccount();
      const c = (await v1('POST', '/v1/contractor', { name: 'ООО Ромашка' })).contractor as { id: number };
      const p = (await v1('POST', '/v1/project', { name: 'Сделка', type: 'deal' })).project as { id: number };
      await v2('/v2/transactions/create', {
        transactions: [
          tx({ date: '2025-07-01', importedId: 'papka:1', contractorId: c.id, projectId: p.id }),
          tx({ date: '2025-07-10', type: 'outcome' }),
          tx({ date: '2025-08-01' }),
          tx({ date: '2025-07-05', bankAccountId: second.id }),
        ],
      });
      const ids = async (q: Form): Promise<string[]> =>
        ((await v1('GET', '/v1/transactions', q)).transactions as Array<{ dateIso: string }>).map((t) => t.dateIso);

      const july = { range: 'custom', range_start: '2025-07-01', range_end: '2025-07-31' };
      expect(await ids(july)).toEqual(['2025-07-10', '2025-07-05', '2025-07-01']);
      expect(await ids({ ...july, bank_account: String(bank()) })).toEqual(['2025-07-10', '2025-07-01']);
      expect(await ids({ ...july, type: 'income' })).toEqual(['2025-07-05', '2025-07-01']);
      expect(await ids({ project: String(p.id) })).toEqual(['2025-07-01']);
      expect(await ids({ contractor: String(c.id) })).toEqual(['2025-07-01']);
      expect(await ids({ start: '1', length: '2' })).toEqual(['2025-07-10', '2025-07-05']);

      const listed = (await v1('GET', '/v1/transactions', { project: String(p.id) })).transactions as Array<Record<string, unknown>>;
      expect(listed[0]).not.toHaveProperty('importedId');
      expect(listed[0]).toMatchObject({ amount: '2010.00', date: '01.07.2025', contractor: { id: c.id }, project: { id: p.id } });
      expect(await v1('GET', `/v1/transaction/${listed[0].id as number}`)).toMatchObject({ success: true, transaction: { id: listed[0].id } });
      expect(await v1('GET', '/v1/transactions', { range: 'custom' })).toMatchObject({ success: false });
    });

    it('gives a transaction a new id on the v1 update', async () => {
      await start();
      const t = (await v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' })] })).transactions as Array<{ id: number }>;
      const res = await v1('POST', `/v1/transaction/${t[0].id}`, { date: '2025-07-02', bank_account: String(bank()), amount: '100' });
      const newId = (res.transaction as { id: number }).id;
      expect(newId).not.toBe(t[0].id);
      expect(sut.transactions().map((x) => [x.id, x.amount, x.importedId])).toEqual([[newId, '100.00', 'papka:1']]);
    });
  });

  describe('commit-then-drop', () => {
    it('creates the transactions, then resets the connection without an answer', async () => {
      await start();
      sut.setCommitThenDrop(1, 'reset');
      await expect(v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' }), tx({ importedId: 'papka:2' })] })).rejects.toMatchObject({
        name: 'TypeError',
        cause: expect.objectContaining({ code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) }),
      });
      expect(sut.transactions().map((t) => t.importedId)).toEqual(['papka:1', 'papka:2']);
      expect(sut.calls({ path: '/v2/transactions/create' })).toEqual([expect.objectContaining({ outcome: 'dropped', committed: true, status: 0 })]);

      sut.setCommitThenDrop(0);
      expect((await v1('GET', '/v1/transactions')).recordsFiltered).toBe(2);
    });

    it('stalls after committing until the client gives up, and close() still returns', async () => {
      await start();
      sut.setCommitThenDrop(1, 'stall');
      await expect(v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' })] }, { signal: AbortSignal.timeout(200) })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(sut.transactions().map((t) => t.importedId)).toEqual(['papka:1']);
      expect(sut.calls()).toEqual([expect.objectContaining({ outcome: 'stalled', committed: true })]);
      // afterEach's close() must return although the stalled request is still open.
    });

    it('leaves the connector\'s HTTP client with an unknown outcome, reset or stalled', async () => {
      await start();
      const client = new HttpClient({ baseUrl: sut.url, headers: { 'x-api-token': sut.token }, timeoutMs: 200 });
      try {
        for (const mode of ['reset', 'stall'] as const) {
          sut.setCommitThenDrop(1, mode);
          await expect(client.json('POST', '/v2/transactions/create', { json: { transactions: [tx({ importedId: `papka:${mode}` })] } })).rejects.toBeInstanceOf(
            OutcomeUnknown,
          );
        }
      } finally {
        await client.close();
      }
      expect(sut.transactions().map((t) => t.importedId)).toEqual(['papka:reset', 'papka:stall']);
    });

    it('does not drop a call that changed nothing', async () => {
      await start();
      sut.setCommitThenDrop(1, 'reset');
      expect(await v1('POST', '/v1/contractor', {})).toMatchObject({ success: false });
      expect((await v1('GET', '/v1/contractors')).success).toBe(true);
    });

    it('answers 500 before applying, or after applying, as asked', async () => {
      await start();
      sut.setServerErrors(1, 'before');
      const before = await fetch(`${sut.url}/v2/transactions/create?api_token=${sut.token}`, { method: 'POST', body: JSON.stringify({ transactions: [tx()] }) });
      expect(before.status).toBe(500);
      expect(sut.transactions()).toEqual([]);
      sut.setServerErrors(1, 'after');
      const after = await fetch(`${sut.url}/v2/transactions/create?api_token=${sut.token}`, { method: 'POST', body: JSON.stringify({ transactions: [tx()] }) });
      expect(after.status).toBe(500);
      expect(sut.transactions()).toHaveLength(1);
    });

    it('draws the same faults in every run for one seed', async () => {
      const outcomes = async (): Promise<string[]> => {
        await start({ seed: 7 });
        sut.setCommitThenDrop(0.5);
        for (let i = 0; i < 20; i++) await v1('POST', '/v1/contractor', { name: `c${i}` }).catch(() => undefined);
        const seen = sut.calls().map((c) => c.outcome);
        await sut.close();
        return seen;
      };
      const first = await outcomes();
      expect(first).toContain('dropped');
      expect(first).toContain('ok');
      expect(await outcomes()).toEqual(first);
      await start();
    });
  });

  describe('down', () => {
    it('refuses connections while down and serves the same data on the same URL after', async () => {
      await start();
      await v1('POST', '/v1/contractor', { name: 'ООО Ромашка' });
      await sut.setDown(true);
      await expect(v1('GET', '/v1/contractors')).rejects.toMatchObject({ cause: expect.objectContaining({ code: 'ECONNREFUSED' }) });
      await sut.setDown(false);
      expect((await v1('GET', '/v1/contractors')).contractors).toEqual([expect.objectContaining({ name: 'ООО Ромашка' })]);
    });
  });

  describe('webhooks', () => {
    let receiver: Server;
    let received: AdeskWebhookEnvelope[];
    let answers: number[];

    async function startReceiver(statuses: number[]): Promise<string> {
      received = [];
      answers = [...statuses];
      receiver = createServer((req, res) => {
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => {
          received.push(JSON.parse(text) as AdeskWebhookEnvelope);
          res.writeHead(answers.shift() ?? 200).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    }

    afterEach(async () => {
      await new Promise((r) => receiver.close(r));
    });

    async function register(url: string, events: string[]): Promise<void> {
      const res = await v1('POST', '/v1/webhook', { url, 'events[]': events, description: 'papka' });
      expect(res).toMatchObject({ success: true, webhook: { url, events } });
    }

    it('redelivers on Adesk\'s schedule until exactly 200 (a 204 is not success)', async () => {
      await start({ webhookClock: 1_000_000 });
      await register(await startReceiver([500, 204, 200]), ['transaction.created']);
      const p = (await v1('POST', '/v1/project', { name: 'Сделка', type: 'deal' })).project as { id: number };
      const t = sut.createTransactionInAdesk({ type: 'income', amount: 5000, date: '2025-07-03', projectId: p.id });
      await sut.webhooksSettled();

      expect(sut.deliveries().map((d) => [d.attempt, d.status, d.ok])).toEqual([
        [1, 500, false],
        [2, 204, false],
        [3, 200, true],
      ]);
      expect(new Set(received.map((e) => e.eventId)).size).toBe(1);
      expect(received[0]).toMatchObject({ eventType: 'transaction.created', data: [{ id: t.id, amount: '5000.00', date: '2025-07-03', project: { id: p.id } }] });
      expect(received[0].eventTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
      expect(received[0].data[0]).not.toHaveProperty('importedId');
    });

    it('gives up after 9 attempts on a receiver that never answers 200', async () => {
      await start({ webhookClock: 100_000_000 });
      await register(await startReceiver(Array<number>(20).fill(503)), ['transaction.created']);
      sut.createTransactionInAdesk({ type: 'outcome', amount: '10.00', date: '2025-07-03' });
      await sut.webhooksSettled();
      expect(sut.deliveries().map((d) => d.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('echoes our own API writes, only to webhooks subscribed to the event type', async () => {
      await start();
      await register(await startReceiver([]), ['transaction.created', 'transaction.deleted']);
      const created = await v2('/v2/transactions/create', { transactions: [tx({ importedId: 'papka:1' }), tx({ importedId: 'papka:2' })] });
      await v1('POST', '/v1/contractor', { name: 'ООО Ромашка' });
      await sut.webhooksSettled();
      expect(received.map((e) => [e.eventType, e.data.map((d) => d.id)])).toEqual([
        ['transaction.created', (created.transactions as Array<{ id: number }>).map((t) => t.id)],
      ]);
    });

    it('can deliver duplicates, out of order, and before the create is answered', async () => {
      await start();
      await register(await startReceiver([]), ['transaction.created', 'transaction.deleted']);
      sut.setWebhookDuplicates(2);
      sut.holdWebhooks();
      const t = sut.createTransactionInAdesk({ type: 'income', amount: 1, date: '2025-07-03' });
      sut.deleteTransactionInAdesk(t.id);
      sut.releaseWebhooks('lifo');
      await sut.webhooksSettled();
      expect(received.map((e) => e.eventType)).toEqual(['transaction.deleted', 'transaction.deleted', 'transaction.created', 'transaction.created']);
      expect(new Set(received.map((e) => e.eventId)).size).toBe(2);

      sut.setWebhookDuplicates(1);
      sut.setWebhooksBeatResponse(true);
      received.length = 0;
      await v2('/v2/transactions/create', { transactions: [tx()] });
      expect(received.map((e) => e.eventType)).toEqual(['transaction.created']);
    });

    it('accepts the events array in the usual form encodings and lists and removes webhooks', async () => {
      await start();
      const url = await startReceiver([]);
      expect(await v1('POST', '/v1/webhook', { url, events: 'transaction.created,transaction.deleted' })).toMatchObject({ webhook: { events: ['transaction.created', 'transaction.deleted'] } });
      expect(await v1('POST', '/v1/webhook', { url, 'events[0]': 'project.created' })).toMatchObject({ webhook: { events: ['project.created'] } });
      expect(await v1('POST', '/v1/webhook', { url: 'not a url', events: 'transaction.created' })).toMatchObject({ success: false, errors: { url: [expect.any(String)] } });
      expect(((await v1('GET', '/v1/webhooks')).webhooks as unknown[]).length).toBe(2);
      await v1('POST', `/v1/webhook/${sut.webhooks()[0].id}/remove`);
      expect(sut.webhooks()).toHaveLength(1);
    });
  });
});
