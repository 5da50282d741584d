import type { DataSource } from 'typeorm';
import { fakeCommands } from '@papka/testing';
import type { FinanceSyncConfig } from '../config';
import { ConnectorError, type Connector, type ConnectorOptions, type Dependency, type EntityData, type ItemResult, type PaymentData } from '../connectors';
import { MoyskladConnector } from '../connectors/moysklad/moysklad.connector';
import { paymentBody, type MoyskladSettings } from '../connectors/moysklad/moysklad.mapper';
import type { ConnectorPool } from '../connections/connector-pool';
import type { ConnectionRow, ConnectionsRepository } from '../connections/connections.repository';
import type { PaymentRow, ReplicasRepository } from '../replicas/replicas.repository';
import type { ClaimedRecord, LedgerState, SyncRepository } from './sync.repository';
import { SyncWorker } from './sync.worker';

const ACC = 'acc-1';
const CONN = '11111111-1111-4111-8111-111111111111';
const I = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';
const INVOICE = '44444444-4444-4444-8444-444444444444';
const pid = (n: number) => `55555555-5555-4555-8555-${String(n).padStart(12, '0')}`;

interface Outcome {
  state: string;
  attempts?: number;
  lastError?: string | null;
  remoteId?: string | null;
  waitingFor?: string | null;
}

/** The engine's tables in memory: just what a round of payments touches. */
function fakeSync(claimed: ClaimedRecord[], mapped: Record<string, string>) {
  const outcomes = new Map<string, Outcome>();
  const ledger = new Map<string, LedgerState>();
  const released: string[][] = [];
  const repo = {
    claim: async () => claimed.splice(0),
    finish: async (_m: unknown, _a: string, rec: ClaimedRecord, o: Outcome) => void outcomes.set(rec.entityId, o),
    mappings: async (_a: string, _c: string, kind: string, ids: string[]) =>
      new Map(ids.filter((id) => mapped[`${kind}:${id}`]).map((id) => [id, { remoteId: mapped[`${kind}:${id}`]!, remoteDeleted: false, origin: 'papka', parentId: null }])),
    finishSynced: async (_m: unknown, _a: string, done: { rec: ClaimedRecord; remoteId: string | null }[], o: { lastError?: string | null }) =>
      done.forEach((d) => outcomes.set(d.rec.entityId, { state: 'synced', remoteId: d.remoteId, lastError: o.lastError ?? null })),
    map: async (_m: unknown, _a: string, _c: string, kind: string, id: string, remoteId: string) => ((mapped[`${kind}:${id}`] = remoteId), true),
    mapMany: async (_m: unknown, _a: string, _c: string, kind: string, pairs: { localId: string; remoteId: string }[]) => (pairs.forEach((p) => (mapped[`${kind}:${p.localId}`] = p.remoteId)), pairs.length),
    ledger: async (_a: string, _c: string, op: string, keys: string[]) => new Map(keys.filter((k) => ledger.has(`${op}:${k}`)).map((k) => [k, ledger.get(`${op}:${k}`)!])),
    ledgerSending: async (_a: string, _c: string, op: string, keys: string[]) => keys.forEach((k) => ledger.set(`${op}:${k}`, 'sending')),
    ledgerFinish: async (_m: unknown, _a: string, _c: string, op: string, keys: string[], state: LedgerState) => keys.forEach((k) => ledger.set(`${op}:${k}`, state)),
    releaseParked: async (_a: string, _c: string, keys: string[]) => (released.push(keys), 0),
    isNotApplicable: async () => false,
    lockAccountQueue: async () => undefined,
  };
  return { repo: repo as unknown as SyncRepository, outcomes, ledger, released };
}

const payment = (n: number): PaymentRow => ({ id: pid(n), interactionId: I, type: 'income', name: `p${n}`, sum: 100 * n, date: '2025-01-02', removed: false });
const rec = (n: number): ClaimedRecord => ({ id: `r${n}`, entityType: 'payment', entityId: pid(n), op: 'upsert', attempts: 0, revision: 1, changed: false, neverSynced: true, sentHash: null, claimedHash: 'create' });

function worker(
  connector: Partial<Connector>,
  sync: SyncRepository,
  rows: PaymentRow[],
  over: Partial<Record<keyof ReplicasRepository, unknown>> = {},
  target = 'moysklad',
  o: { conn?: Partial<ConnectionRow>; connections?: Record<string, unknown> } = {},
) {
  const c = { id: CONN, accountId: ACC, target, state: 'active', reason: null, ...o.conn } as unknown as ConnectionRow;
  const replicas = {
    payments: async (_a: string, ids: string[]) => new Map(rows.filter((r) => ids.includes(r.id)).map((r) => [r.id, r])),
    interaction: async () => ({ id: I, contractorId: C, name: 'Сделка', sum: 1000, deleted: false }),
    interactions: async (_a: string, ids: string[]) => new Map(ids.filter((id) => id === I).map((id) => [id, { id, contractorId: C, name: 'Сделка', sum: 1000, deleted: false }])),
    documentsOf: async () => [{ id: INVOICE, kind: 'invoice', templateId: null, sum: 5000 }],
    paidInFullBy: async () => new Map(),
    unknownDocumentsOf: async () => [],
    document: async () => null,
    ...over,
  } as unknown as ReplicasRepository;
  // The many-interaction reads answer what the one-interaction ones (and their overrides) say.
  Object.assign(replicas, {
    documentsOfMany: async (a: string, ids: string[]) => new Map(await Promise.all(ids.map(async (id) => [id, await replicas.documentsOf(a, id)] as const))),
    firstUnknownDocumentOfMany: async (a: string, ids: string[]) =>
      new Map((await Promise.all(ids.map(async (id) => [id, (await replicas.unknownDocumentsOf(a, id))[0]] as const))).filter((x): x is readonly [string, string] => x[1] !== undefined)),
  });
  const connections = { listConnected: async () => [c], get: async () => c, markRateLimited: async () => undefined, resume: async () => undefined, ...o.connections } as unknown as ConnectionsRepository;
  const pool = { for: () => ({ target, close: async () => undefined, ...connector }) } as unknown as ConnectorPool;
  const ds = { transaction: async (fn: (m: unknown) => Promise<unknown>) => fn({}) } as unknown as DataSource;
  const config = { FINANCE_WORKER: false, FINANCE_RETRY_SCHEDULE: [0, 50, 100], FINANCE_RATE_BACKOFF_MS: [1000], FINANCE_CLAIM_SIZE: 100, FINANCE_LEASE_MS: 1000, FINANCE_UNAVAILABLE_RETRY_MS: 100 } as unknown as FinanceSyncConfig;
  return new SyncWorker(config, ds, connections, pool, sync, replicas, fakeCommands().commands);
}

describe(SyncWorker.name, () => {
  it('a document deleted in Papka while its record waited is not applicable (synced with that note), not failed; one the read model lacks is failed', async () => {
    const D = '77777777-7777-4777-8777-777777777777';
    const docRec: ClaimedRecord = { ...rec(1), id: 'd1', entityType: 'document', entityId: D };
    const f = fakeSync([docRec], {});
    await worker({ documentSteps: () => [] }, f.repo, [], { document: async () => ({ id: D, deleted: true }) }).tick();
    expect(f.outcomes.get(D)).toMatchObject({ state: 'synced', remoteId: null, lastError: 'not applicable: the document was deleted in Papka before it was sent' });
    const g = fakeSync([{ ...docRec }], {});
    await worker({ documentSteps: () => [] }, g.repo, [], { document: async () => null }).tick();
    expect(g.outcomes.get(D)).toMatchObject({ state: 'failed', lastError: 'the document is not in the read model' });
  });

  it('takes a bulk answer item by item: an id is synced, a refused item failed, an unknown one retried with a look-up first', async () => {
    const f = fakeSync([rec(1), rec(2), rec(3)], { [`contractor:${C}`]: 'cp-1' });
    const sent: PaymentData[][] = [];
    const createPayments = async (items: PaymentData[]): Promise<ItemResult[]> => {
      sent.push(items);
      return ['remote-1', new ConnectorError('rejected', 'sum is not valid', 'POST /entity/paymentin'), new ConnectorError('outcome_unknown', 'item 3 timed out', 'POST /entity/paymentin')];
    };
    await worker({ paymentBatch: { method: 'POST /entity/paymentin', size: 100 }, createPayments }, f.repo, [payment(1), payment(2), payment(3)]).tick();

    expect(sent).toHaveLength(1);
    // The engine filled in the connection's remote ids and the interaction's invoice.
    expect(sent[0]![0]).toMatchObject({ interactionId: I, contractorId: C, contractorRemoteId: 'cp-1', projectRemoteId: '', invoice: { id: INVOICE, sum: 5000, remoteId: null } });
    expect(f.outcomes.get(pid(1))).toMatchObject({ state: 'synced', remoteId: 'remote-1' });
    expect(f.outcomes.get(pid(2))).toMatchObject({ state: 'failed', lastError: 'sum is not valid' });
    expect(f.outcomes.get(pid(3))).toMatchObject({ state: 'pending', attempts: 1, lastError: 'item 3 timed out' });
    // Only the unknown one stays `sending`: the next attempt looks it up before any resend.
    expect([1, 2, 3].map((n) => f.ledger.get(`transaction.create:${pid(n)}`))).toEqual(['done', 'failed', 'sending']);
  });

  it('fails every item of a batch refused for what they all share in one call, and halves one refused for an item', async () => {
    const closed = fakeSync([rec(1), rec(2), rec(3), rec(4)], { [`contractor:${C}`]: 'cp-1' });
    const calls: number[] = [];
    const refuseAll = async (items: PaymentData[]): Promise<ItemResult[]> => {
      calls.push(items.length);
      throw new ConnectorError('rejected', 'Cannot use closed bank account (cannot_use_closed_bank_account)', 'POST /v2/transactions/create', undefined, true);
    };
    await worker({ paymentBatch: { method: 'POST /v2/transactions/create', size: 100 }, createPayments: refuseAll }, closed.repo, [1, 2, 3, 4].map(payment)).tick();
    expect(calls).toEqual([4]);
    expect([1, 2, 3, 4].map((n) => closed.outcomes.get(pid(n))?.state)).toEqual(['failed', 'failed', 'failed', 'failed']);

    const one = fakeSync([rec(1), rec(2), rec(3), rec(4)], { [`contractor:${C}`]: 'cp-1' });
    const sizes: number[] = [];
    const refuseFour = async (items: PaymentData[]): Promise<ItemResult[]> => {
      sizes.push(items.length);
      if (items.some((p) => p.id === pid(4))) throw new ConnectorError('rejected', 'Invalid value of "amount"', 'POST /v2/transactions/create');
      return items.map((p) => `remote-${p.id}`);
    };
    await worker({ paymentBatch: { method: 'POST /v2/transactions/create', size: 100 }, createPayments: refuseFour }, one.repo, [1, 2, 3, 4].map(payment)).tick();
    expect(sizes).toEqual([4, 2, 2, 1, 1]);
    expect([1, 2, 3, 4].map((n) => one.outcomes.get(pid(n))?.state)).toEqual(['synced', 'synced', 'synced', 'failed']);
  });

  it('pauses the connection for settings the target refuses (a closed bank account): nothing failed, no attempt counted; its probe is check()', async () => {
    const f = fakeSync([rec(1), rec(2)], { [`contractor:${C}`]: 'cp-1' });
    const pauses: unknown[][] = [];
    const connections = { pause: async (...a: unknown[]) => void pauses.push(a) };
    const createPayments = jest.fn(async (): Promise<ItemResult[]> => {
      throw new ConnectorError('settings_refused', 'Cannot use closed bank account: settings.bankAccountId 7 is closed in Adesk', 'POST /v2/transactions/create');
    });
    await worker({ paymentBatch: { method: 'POST /v2/transactions/create', size: 100 }, createPayments }, f.repo, [payment(1), payment(2)], {}, 'adesk', { connections }).tick();
    expect(createPayments).toHaveBeenCalledTimes(1);
    expect(pauses).toEqual([[ACC, CONN, 'settings_refused', undefined]]);
    for (const n of [1, 2]) expect(f.outcomes.get(pid(n))).toMatchObject({ state: 'pending', lastError: expect.stringContaining('settings.bankAccountId 7 is closed') });
    expect(f.outcomes.get(pid(1))?.attempts).toBeUndefined();
    expect(f.ledger.get(`transaction.create:${pid(1)}`)).toBe('failed');

    // Paused so, the probe asks check() of the stored settings, not the token probe: still closed, it stays paused.
    const settings = { bankAccountId: 7 };
    const check = jest.fn(async (_s: Record<string, unknown>): Promise<Record<string, unknown>> => {
      throw new ConnectorError('rejected', 'bank account 7 is not an open bank account of this Adesk account', 'settings.bankAccountId');
    });
    const probe = jest.fn(async () => undefined);
    const resumed: unknown[][] = [];
    const paused = { conn: { state: 'paused', reason: 'settings_refused', nextProbeAt: null, settings } as Partial<ConnectionRow>, connections: { ...connections, resume: async (...a: unknown[]) => void resumed.push(a) } };
    const g = fakeSync([rec(1)], { [`contractor:${C}`]: 'cp-1' });
    const create = jest.fn(async (items: PaymentData[]): Promise<ItemResult[]> => items.map((p) => `remote-${p.id}`));
    const connector = { paymentBatch: { method: 'POST /v2/transactions/create', size: 100 }, createPayments: create, check, probe };
    await worker(connector, g.repo, [payment(1)], {}, 'adesk', paused).tick();
    expect(check).toHaveBeenCalledWith(settings);
    expect(probe).not.toHaveBeenCalled();
    expect(create).not.toHaveBeenCalled();
    expect(pauses.at(-1)).toEqual([ACC, CONN, 'settings_refused', undefined]);
    expect(resumed).toEqual([]);

    // Opened again in Adesk: the probe resumes the connection with what check() answered; the
    // next round (which reads the row again) sends the payment.
    check.mockResolvedValueOnce(settings);
    await worker(connector, g.repo, [payment(1)], {}, 'adesk', paused).tick();
    expect(resumed).toEqual([[ACC, CONN, undefined, settings]]);
    expect(create).not.toHaveBeenCalled();
    await worker(connector, g.repo, [payment(1)], {}, 'adesk', { ...paused, conn: { ...paused.conn, state: 'active', reason: null } }).tick();
    expect(create).toHaveBeenCalledTimes(1);
    expect(g.outcomes.get(pid(1))).toMatchObject({ state: 'synced', remoteId: `remote-${pid(1)}` });
  });

  it("parks what a connector's dependency is missing for, says which, and syncs what is not applicable without a call", async () => {
    const f = fakeSync([rec(1), rec(2)], { [`contractor:${C}`]: 'cp-1' });
    const createPayments = jest.fn(async (items: PaymentData[]): Promise<ItemResult[]> => items.map((p) => `remote-${p.id}`));
    const dependencies = (e: EntityData): Dependency[] => (e.type === 'payment' && e.data.invoice ? [{ kind: 'document', key: e.data.invoice.id }] : []);
    const applies = (e: EntityData) => (e.type === 'payment' && e.data.name === 'p2' ? 'only invoice payments' : true);
    await worker({ paymentBatch: { method: 'POST /x', size: 100 }, createPayments, dependencies, applies }, f.repo, [payment(1), payment(2)]).tick();

    expect(createPayments).not.toHaveBeenCalled();
    expect(f.outcomes.get(pid(1))).toMatchObject({ state: 'parked', waitingFor: `document:${INVOICE}` });
    expect(f.outcomes.get(pid(2))).toMatchObject({ state: 'synced', remoteId: null, lastError: 'not applicable: only invoice payments' });
  });

  it('releases a record parked for a dependency that another replica found not applicable meanwhile', async () => {
    const f = fakeSync([rec(1)], { [`contractor:${C}`]: 'cp-1' });
    // Not applicable from the second question on: after the check before parking, before the one after it.
    let asked = 0;
    const isNotApplicable = jest.fn(async () => ++asked > 1);
    Object.assign(f.repo, { isNotApplicable });
    const dependencies = (e: EntityData): Dependency[] => (e.type === 'payment' && e.data.invoice ? [{ kind: 'document', key: e.data.invoice.id }] : []);
    await worker({ paymentBatch: { method: 'POST /x', size: 100 }, createPayments: async () => [], dependencies }, f.repo, [payment(1)]).tick();
    expect(f.outcomes.get(pid(1))).toMatchObject({ state: 'parked', waitingFor: `document:${INVOICE}` });
    expect(f.released).toEqual([[`document:${INVOICE}`]]);
  });

  it('keeps up to inFlight batches out at once, and when the target goes down hands back what it did not send, after every lane has ended', async () => {
    const recs = Array.from({ length: 10 }, (_, n) => rec(n + 1));
    const f = fakeSync([...recs], { [`contractor:${C}`]: 'cp-1' });
    let out = 0;
    let most = 0;
    let calls = 0;
    const createPayments = async (items: PaymentData[]): Promise<ItemResult[]> => {
      calls += 1;
      const n = calls;
      out += 1;
      most = Math.max(most, out);
      // The second call finds the target down at once, while the first and third are still out.
      await new Promise((r) => setTimeout(r, n === 2 ? 1 : 20));
      out -= 1;
      if (n === 2) throw new ConnectorError('unavailable', 'target down', 'POST /x');
      return items.map((p) => `remote-${p.id}`);
    };
    await worker({ paymentBatch: { method: 'POST /x', size: 2, inFlight: 3 }, createPayments }, f.repo, recs.map((r, n) => payment(n + 1))).tick();

    expect(most).toBe(3);
    // Three went out together; the failure stopped the round before the others came back, so no lane took a fourth.
    expect(calls).toBe(3);
    const states = recs.map((r) => f.outcomes.get(r.entityId)?.state);
    expect(states.filter((x) => x === 'synced')).toHaveLength(4);
    // The failed batch and the four never sent are back in the queue, none lost.
    expect(states.filter((x) => x === 'pending')).toHaveLength(6);
  });

  describe('a payment whose interaction lists a document the read model does not have yet (topics are not ordered)', () => {
    const base = 'http://moysklad.test/api/remap/1.2';
    const settings = { organizationId: 'org-1', expenseItemId: 'ei-1', tokenKind: 'user' } as unknown as MoyskladSettings;
    const options = { token: 't', settings, connectionId: CONN, timeoutMs: 1000, batchSize: 100 } as unknown as ConnectorOptions;
    /** MoySklad's own applies/dependencies, and the bodies its bulk create would send. */
    const moysklad = () => {
      const ms = new MoyskladConnector(base, options);
      const bodies: Record<string, unknown>[] = [];
      const createPayments = jest.fn(async (items: PaymentData[]): Promise<ItemResult[]> => {
        bodies.push(...items.map((p) => paymentBody(p, settings, base, CONN)));
        return items.map((p) => `remote-${p.id}`);
      });
      const connector: Partial<Connector> = { paymentBatch: ms.paymentBatch, createPayments, applies: (e) => ms.applies(e), dependencies: (e) => ms.dependencies(e) };
      return { connector, createPayments, bodies };
    };

    it('is parked until the document arrives, then waits for its invoice and goes out linked with the whole sum', async () => {
      const queue = [rec(7)];
      const mapped: Record<string, string> = { [`contractor:${C}`]: 'cp-1' };
      const f = fakeSync(queue, mapped);
      const ms = moysklad();
      // The payment and the interaction (listing INVOICE) are in; INVOICE's document.* event is not.
      let arrived = false;
      const sut = worker(ms.connector, f.repo, [payment(7)], {
        documentsOf: async () => (arrived ? [{ id: INVOICE, kind: 'invoice', templateId: null, sum: 70000 }] : []),
        unknownDocumentsOf: async () => (arrived ? [] : [INVOICE]),
      });

      await sut.tick();
      expect(ms.createPayments).not.toHaveBeenCalled();
      expect(f.outcomes.get(pid(7))).toMatchObject({ state: 'parked', waitingFor: `document:${INVOICE}` });
      expect(f.outcomes.get(pid(7))?.lastError).toContain('not in the document read model yet');
      // Checked again after parking: the document is still unknown, so nothing released it.
      expect(f.released).toEqual([]);

      // The document event comes (its row releases the payment): now it is known to be the invoice, not synced yet.
      arrived = true;
      queue.push(rec(7));
      await sut.tick();
      expect(ms.createPayments).not.toHaveBeenCalled();
      expect(f.outcomes.get(pid(7))).toMatchObject({ state: 'parked', waitingFor: `document:${INVOICE}`, lastError: `waiting for document ${INVOICE}` });

      // The invoiceout is made (its sync releases `document:INVOICE`): the paymentin links it.
      mapped[`document:${INVOICE}`] = 'inv-remote-1';
      queue.push(rec(7));
      await sut.tick();
      expect(f.outcomes.get(pid(7))).toMatchObject({ state: 'synced', remoteId: `remote-${pid(7)}` });
      expect(ms.bodies).toHaveLength(1);
      expect(ms.bodies[0]).toMatchObject({ sum: 700, operations: [{ meta: { type: 'invoiceout', href: `${base}/entity/invoiceout/inv-remote-1` }, linkedSum: 700 }] });
    });

    it('is released at once when the document arrived (or was detached) while it was being parked', async () => {
      const f = fakeSync([rec(8)], { [`contractor:${C}`]: 'cp-1' });
      const ms = moysklad();
      // Unknown when the round looked, gone by the check after parking.
      const unknownDocumentsOf = jest.fn().mockResolvedValueOnce([INVOICE]).mockResolvedValue([]);
      await worker(ms.connector, f.repo, [payment(8)], { documentsOf: async () => [], unknownDocumentsOf }).tick();
      expect(f.outcomes.get(pid(8))).toMatchObject({ state: 'parked', waitingFor: `document:${INVOICE}` });
      expect(f.released).toEqual([[`document:${INVOICE}`]]);
    });

    it('does not hold a payment for a target that takes no documents (Adesk)', async () => {
      const f = fakeSync([rec(9)], { [`contractor:${C}`]: 'cp-1', [`project:${I}`]: 'deal-1' });
      const createPayments = jest.fn(async (items: PaymentData[]): Promise<ItemResult[]> => items.map((p) => `remote-${p.id}`));
      const unknownDocumentsOf = jest.fn(async () => [INVOICE]);
      await worker({ paymentBatch: { method: 'POST /transactions', size: 100 }, createPayments }, f.repo, [payment(9)], { documentsOf: async () => [], unknownDocumentsOf }, 'adesk').tick();
      expect(f.outcomes.get(pid(9))).toMatchObject({ state: 'synced', remoteId: `remote-${pid(9)}` });
      expect(unknownDocumentsOf).not.toHaveBeenCalled();
    });
  });
});

/** A worker over contractor records only: each round claims the next list; `sending` names ledger rows (`op:key`) left by an unknown outcome. */
function contractorWorker(o: { rounds: ClaimedRecord[][]; steps: (data: { id: string }) => unknown[]; sending?: Set<string>; config?: Record<string, unknown>; current?: (c: ConnectionRow) => ConnectionRow | null }) {
  const outcomes = new Map<string, Outcome>();
  const sending = o.sending ?? new Set<string>();
  const repo = {
    claim: async () => o.rounds.shift() ?? [],
    finish: async (_m: unknown, _a: string, r: ClaimedRecord, out: Outcome) => void outcomes.set(r.entityId, out),
    finishSynced: async (_m: unknown, _a: string, done: { rec: ClaimedRecord }[]) => done.forEach((d) => outcomes.set(d.rec.entityId, { state: 'synced' })),
    mappings: async () => new Map(),
    childMappings: async () => new Map(),
    map: async () => true,
    ledger: async (_a: string, _c: string, op: string, keys: string[]) => new Map(keys.filter((k) => sending.has(`${op}:${k}`)).map((k) => [k, 'sending' as LedgerState])),
    ledgerSending: async () => undefined,
    ledgerFinish: async () => undefined,
    releaseParked: async () => 0,
    isNotApplicable: async () => false,
  } as unknown as SyncRepository;
  const c = { id: CONN, accountId: ACC, target: 'adesk', state: 'active', reason: null, connected: true, updatedAt: new Date('2026-12-01T00:00:00Z') } as unknown as ConnectionRow;
  const replicas = { contractor: async (_a: string, id: string) => ({ id, name: 'ООО Ромашка', inn: null, kpp: null, banks: [] }) } as unknown as ReplicasRepository;
  const connections = {
    listConnected: async () => [c],
    get: async () => (o.current ? o.current(c) : c),
    markRateLimited: async () => undefined,
    resume: async () => undefined,
  } as unknown as ConnectionsRepository;
  const pool = { for: () => ({ target: 'adesk', close: async () => undefined, contractorSteps: o.steps }) } as unknown as ConnectorPool;
  const ds = { transaction: async (fn: (m: unknown) => Promise<unknown>) => fn({}), manager: {} } as unknown as DataSource;
  const config = {
    FINANCE_WORKER: false,
    FINANCE_RETRY_SCHEDULE: [0, 50, 100],
    FINANCE_RATE_BACKOFF_MS: [1],
    FINANCE_CLAIM_SIZE: 100,
    FINANCE_LEASE_MS: 60_000,
    FINANCE_UNAVAILABLE_RETRY_MS: 100,
    ...o.config,
  } as unknown as FinanceSyncConfig;
  return { sut: new SyncWorker(config, ds, connections, pool, repo, replicas, fakeCommands().commands), outcomes };
}

const cid = (n: number) => `33333333-3333-4333-8333-${String(n).padStart(12, '0')}`;
const contractorRec = (n: number): ClaimedRecord => ({ id: `c${n}`, entityType: 'contractor', entityId: cid(n), op: 'upsert', attempts: 0, revision: 1, changed: false, neverSynced: true, sentHash: null, claimedHash: 'h' });
const createStep = (data: { id: string }, run: () => Promise<string>, find: () => Promise<string | null> = async () => null) => ({
  op: 'contractor.create',
  key: data.id,
  kind: 'contractor',
  method: 'POST /v1/contractor',
  find,
  run,
});

describe('SyncWorker: the 429 probe', () => {
  it('is given back when it ends without an answer of its own (its look-up failed under another method): the method opens again', async () => {
    // Round 1: the create is answered 429 (blocked for 1 ms). Round 2: the next record is the
    // probe; its ledger says "sending", so its look-up (a GET) runs first, and fails. Round 3:
    // the back-off is long over, and its record must be sent.
    const sent: string[] = [];
    const { sut, outcomes } = contractorWorker({
      rounds: [[contractorRec(1)], [contractorRec(2)], [contractorRec(3)]],
      sending: new Set([`contractor.create:${cid(2)}`]),
      steps: (data) => [
        createStep(
          data,
          async () => {
            if (data.id === cid(1)) throw new ConnectorError('rate_limited', 'POST /v1/contractor answered 429', 'POST /v1/contractor');
            sent.push(data.id);
            return `remote-${data.id}`;
          },
          async () => {
            throw new ConnectorError('outcome_unknown', 'GET /v1/contractors answered 500', 'GET /v1/contractors');
          },
        ),
      ],
    });
    const pastBackoff = () => new Promise((r) => setTimeout(r, 20));

    await sut.tick();
    expect(outcomes.get(cid(1))).toMatchObject({ state: 'pending' });
    await pastBackoff();
    await sut.tick();
    expect(outcomes.get(cid(2))).toMatchObject({ state: 'pending', lastError: expect.stringMatching(/GET \/v1\/contractors answered 500/) });
    await pastBackoff();
    await sut.tick();
    expect(sent).toEqual([cid(3)]);
    expect(outcomes.get(cid(3))).toMatchObject({ state: 'synced' });
  });
});

describe('SyncWorker: look-ups under their own method', () => {
  it('gates a look-up as its create is gated: once the list answered 429, the next unknown create waits instead of asking again', async () => {
    const looked: string[] = [];
    const { sut, outcomes } = contractorWorker({
      rounds: [[contractorRec(1)], [contractorRec(2)]],
      sending: new Set([`contractor.create:${cid(1)}`, `contractor.create:${cid(2)}`]),
      config: { FINANCE_RATE_BACKOFF_MS: [60_000] },
      steps: (data) => [
        {
          ...createStep(data, async () => `remote-${data.id}`, async () => {
            looked.push(data.id);
            throw new ConnectorError('rate_limited', 'GET /v1/contractors answered 429', 'GET /v1/contractors');
          }),
          findMethod: 'GET /v1/contractors',
        },
      ],
    });
    await sut.tick();
    await sut.tick();
    // One probe of the blocked list, not one per record; the second waits for the back-off.
    expect(looked).toEqual([cid(1)]);
    expect(outcomes.get(cid(2))).toMatchObject({ state: 'pending' });
  });
});

describe('SyncWorker: the lease', () => {
  it('starts nothing new past half its lease: the rest goes back to the queue, due at once, before another replica may claim it', async () => {
    // A 200 ms lease and calls of at least 60 ms: five records cannot all be sent within half of it.
    const sent: string[] = [];
    const recs = [1, 2, 3, 4, 5].map(contractorRec);
    const { sut, outcomes } = contractorWorker({
      rounds: [recs],
      config: { FINANCE_LEASE_MS: 200 },
      steps: (data) => [
        createStep(data, async () => {
          await new Promise((r) => setTimeout(r, 60));
          sent.push(data.id);
          return `remote-${data.id}`;
        }),
      ],
    });
    await sut.tick();
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.length).toBeLessThan(5);
    for (const r of recs) {
      if (sent.includes(r.entityId)) expect(outcomes.get(r.entityId)).toMatchObject({ state: 'synced' });
      else expect(outcomes.get(r.entityId)).toEqual({ state: 'pending', dueInMs: 0 });
    }
  });

  it('starts nothing new once the connection was deleted during the round: the rest goes back to the queue', async () => {
    // A DELETE clears the leases: another replica could claim these after a PUT. Checked every twentieth of the lease.
    const sent: string[] = [];
    const recs = [1, 2, 3, 4].map(contractorRec);
    const { sut, outcomes } = contractorWorker({
      rounds: [recs],
      config: { FINANCE_LEASE_MS: 60_000 },
      // Deleted as soon as the first record has gone out.
      current: (c) => (sent.length > 0 ? { ...c, connected: false } : c),
      steps: (data) => [
        createStep(data, async () => {
          sent.push(data.id);
          return `remote-${data.id}`;
        }),
      ],
    });
    const realNow = Date.now;
    let offset = 0;
    // The clock moves 4 s per record handled (a twentieth of the lease is 3 s), so the connection is checked before each next one.
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    try {
      const step = sut as unknown as { entity: (round: unknown, rec: ClaimedRecord) => Promise<void> };
      const entity = step.entity.bind(sut);
      step.entity = async (round, rec) => {
        await entity(round, rec);
        offset += 4_000;
      };
      await sut.tick();
    } finally {
      spy.mockRestore();
    }
    expect(sent).toEqual([cid(1)]);
    for (const r of recs.slice(1)) expect(outcomes.get(r.entityId)).toEqual({ state: 'pending', dueInMs: 0 });
  });

  it('starts nothing new once the service is shutting down: the rest goes back to the queue, due at once, and the shutdown waits only for the call in flight', async () => {
    const sent: string[] = [];
    const recs = [1, 2, 3, 4].map(contractorRec);
    let shutdown: Promise<void> | undefined;
    const { sut, outcomes } = contractorWorker({
      rounds: [recs],
      config: { FINANCE_LEASE_MS: 60_000 },
      steps: (data) => [
        createStep(data, async () => {
          sent.push(data.id);
          // SIGTERM arrives while the first call is out.
          if (sent.length === 1) shutdown = sut.onModuleDestroy();
          return `remote-${data.id}`;
        }),
      ],
    });
    const round = sut.tick();
    await round;
    await shutdown;
    expect(sent).toEqual([cid(1)]);
    expect(outcomes.get(cid(1))).toMatchObject({ state: 'synced' });
    for (const r of recs.slice(1)) expect(outcomes.get(r.entityId)).toEqual({ state: 'pending', dueInMs: 0 });
  });
});
