import type { DataSource } from 'typeorm';
import { fakeCommands, startFakeAdesk, type FakeAdesk } from '@papka/testing';
import type { FinanceSyncConfig } from '../config';
import type { ConnectorOptions } from '../connectors';
import { AdeskConnector } from '../connectors/adesk/adesk.connector';
import type { ConnectorPool } from '../connections/connector-pool';
import type { ConnectionRow, ConnectionsRepository } from '../connections/connections.repository';
import type { PaymentRow, ReplicasRepository } from '../replicas/replicas.repository';
import type { ClaimedRecord, SyncRepository } from './sync.repository';
import { SyncWorker } from './sync.worker';

const CONN = '11111111-1111-4111-8111-111111111111';
const I = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';
const pid = (n: number) => `55555555-5555-4555-8555-${String(n).padStart(12, '0')}`;

/**
 * The look-up before a resend (payments whose create may have been applied) against the fake
 * Adesk with its per-method rate limit, the engine's tables in memory.
 */
describe('SyncWorker: payment look-ups after an unknown outcome', () => {
  let adesk: FakeAdesk;
  let connector: AdeskConnector;

  beforeEach(async () => {
    adesk = await startFakeAdesk();
    connector = new AdeskConnector(adesk.url, {
      token: adesk.token,
      timeoutMs: 2_000,
      batchSize: 100,
      connectionTag: 'abcd1234',
      settings: { bankAccountId: adesk.bankAccounts()[0]!.id },
    } as unknown as ConnectorOptions);
  });

  afterEach(async () => {
    await connector.close();
    await adesk.close();
  });

  it('go one date at a time under the limit: each round keeps what it found, and every payment is sent once in the end', async () => {
    // Twelve payments over twelve dates whose creates were sent with their answers lost (none applied).
    const rows: PaymentRow[] = Array.from({ length: 12 }, (_, n) => ({ id: pid(n), interactionId: I, type: 'income', name: `p${n}`, sum: 100, date: `2026-01-${String(n + 1).padStart(2, '0')}`, removed: false }) as PaymentRow);
    // Their contractor and deal are in Adesk (made through the connector's own steps).
    const mapped = new Map<string, string>();
    const done = (kind: string, key: string) => mapped.get(`${kind}:${key}`);
    const contractor = { id: C, type: 2, name: 'ООО «Просрочка»', inn: null, kpp: null, address: null, banks: [] } as unknown as Parameters<AdeskConnector['contractorSteps']>[0];
    for (const step of connector.contractorSteps(contractor, done, false, () => [])) mapped.set(`${step.kind}:${step.key}`, await step.run());
    for (const step of connector.interactionSteps({ id: I, name: 'Сделка', sum: 100_00, contractorId: C, contractorRemoteId: done('contractor', C)! }, done, false)) mapped.set(`${step.kind}:${step.key}`, await step.run());
    const ledger = new Map<string, string>(rows.map((r) => [`transaction.create:${r.id}`, 'sending']));
    const state = new Map<string, string>(rows.map((r) => [r.id, 'pending']));
    const sync = {
      claim: async () => rows.filter((r) => state.get(r.id) === 'pending').map((r, n): ClaimedRecord => ({ id: `r${n}`, entityType: 'payment', entityId: r.id, op: 'upsert', attempts: 0, revision: 1, changed: false, neverSynced: true, sentHash: null, claimedHash: 'create' })),
      finish: async (_m: unknown, _a: string, rec: ClaimedRecord, o: { state: string }) => void state.set(rec.entityId, o.state),
      finishSynced: async (_m: unknown, _a: string, done: { rec: ClaimedRecord }[]) => done.forEach((d) => state.set(d.rec.entityId, 'synced')),
      mappings: async (_a: string, _c: string, kind: string, ids: string[]) =>
        new Map(ids.filter((id) => mapped.has(`${kind}:${id}`)).map((id) => [id, { remoteId: mapped.get(`${kind}:${id}`)!, remoteDeleted: false, origin: 'papka', parentId: null }])),
      mapMany: async (_m: unknown, _a: string, _c: string, kind: string, items: { localId: string; remoteId: string }[]) => {
        for (const i of items) mapped.set(`${kind}:${i.localId}`, i.remoteId);
        return items.length;
      },
      ledger: async (_a: string, _c: string, op: string, keys: string[]) => new Map(keys.filter((k) => ledger.has(`${op}:${k}`)).map((k) => [k, ledger.get(`${op}:${k}`)!])),
      ledgerSending: async (_a: string, _c: string, op: string, keys: string[]) => keys.forEach((k) => ledger.set(`${op}:${k}`, 'sending')),
      ledgerFinish: async (_m: unknown, _a: string, _c: string, op: string, keys: string[], s: string) => keys.forEach((k) => ledger.set(`${op}:${k}`, s)),
      releaseParked: async () => 0,
      isNotApplicable: async () => false,
    } as unknown as SyncRepository;
    const c = { id: CONN, accountId: 'acc', target: 'adesk', state: 'active', reason: null, connected: true, updatedAt: new Date(0) } as unknown as ConnectionRow;
    const replicas = {
      payments: async (_a: string, ids: string[]) => new Map(rows.filter((r) => ids.includes(r.id)).map((r) => [r.id, r])),
      interactions: async () => new Map([[I, { id: I, contractorId: C, name: 'Сделка', sum: 1, deleted: false }]]),
      documentsOfMany: async () => new Map(),
      firstUnknownDocumentOfMany: async () => new Map(),
    } as unknown as ReplicasRepository;
    const connections = { listConnected: async () => [c], get: async () => c, markRateLimited: async () => undefined, resume: async () => undefined } as unknown as ConnectionsRepository;
    const ds = { transaction: async (fn: (m: unknown) => Promise<unknown>) => fn({}) } as unknown as DataSource;
    const config = { FINANCE_WORKER: false, FINANCE_RETRY_SCHEDULE: [0, 50, 100], FINANCE_RATE_BACKOFF_MS: [100], FINANCE_CLAIM_SIZE: 100, FINANCE_LEASE_MS: 60_000, FINANCE_UNAVAILABLE_RETRY_MS: 100 } as unknown as FinanceSyncConfig;
    const worker = new SyncWorker(config, ds, connections, { for: () => connector } as unknown as ConnectorPool, sync, replicas, fakeCommands().commands);

    // Adesk lets 4 list calls through per 400 ms, then blocks that method for 200 ms.
    adesk.setRateLimit({ calls: 4, perMs: 400, blockMs: 200 });
    for (let round = 0; round < 8 && [...state.values()].some((s) => s !== 'synced'); round++) {
      await worker.tick();
      await new Promise((r) => setTimeout(r, 450));
    }
    expect([...state.values()]).toEqual(rows.map(() => 'synced'));
    // Each once: none found (none had been applied), so each was sent after its own date's look-up.
    expect(adesk.transactions().map((t) => t.importedId?.split(':')[2]).sort()).toEqual(rows.map((r) => r.id).sort());
  }, 20_000);
});
