import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { FinanceRecordFailed, FinanceRecordSynced } from '@papka/contracts';
import { Commands } from '@papka/messaging';
import { CONFIG, type FinanceSyncConfig } from '../config';
import { ConnectorError, type Connector, type PaymentData, type Step } from '../connectors';
import { ConnectorPool } from '../connections/connector-pool';
import { ConnectionsRepository, type ConnectionRow } from '../connections/connections.repository';
import { contractorHash, interactionHash } from '../replicas/content-hash';
import { ReplicasRepository, type InteractionRow } from '../replicas/replicas.repository';
import { MethodLimiter } from './limiter';
import { KIND, SyncRepository, type ClaimedRecord } from './sync.repository';

const CREATE_PAYMENT = 'transaction.create';
const REMOVE_PAYMENT = 'transaction.remove';

/** One round of one connection: what it has claimed and whether it must stop (target down, paused). */
interface Round {
  c: ConnectionRow;
  connector: Connector;
  open: Map<string, ClaimedRecord>;
  stopped: boolean;
}

/**
 * The engine's worker: every FINANCE_WORKER_POLL_MS it takes each connected connection's due
 * records (FOR UPDATE SKIP LOCKED under a lease, so replicas share the work) and brings them to
 * the target in dependency order: contractors (contractor, then one requisites per bank
 * account), deals, then payments in bulk batches, then removals. Each remote step is recorded
 * in the ledger before the call; a step whose earlier call may have been applied is looked up
 * in the target first and only created when it is not there.
 */
@Injectable()
export class SyncWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SyncWorker.name);
  private readonly limiter: MethodLimiter;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(CONFIG) private readonly config: FinanceSyncConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly connections: ConnectionsRepository,
    private readonly pool: ConnectorPool,
    private readonly sync: SyncRepository,
    private readonly replicas: ReplicasRepository,
    private readonly commands: Commands,
  ) {
    this.limiter = new MethodLimiter(config.FINANCE_RATE_BACKOFF_MS);
  }

  onApplicationBootstrap(): void {
    if (this.config.FINANCE_WORKER) this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.logger.error(`sync round failed: ${(err as Error).message}`, (err as Error).stack))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.config.FINANCE_WORKER_POLL_MS);
        });
    }, ms);
  }

  /** One round over every connected connection, in parallel (each one's calls in sequence). */
  async tick(): Promise<void> {
    const all = await this.connections.listConnected();
    await Promise.all(
      all.map((c) =>
        this.runConnection(c).catch((err: unknown) => this.logger.error(`connection ${c.id} (${c.target}): ${(err as Error).message}`, (err as Error).stack)),
      ),
    );
  }

  private async runConnection(c: ConnectionRow): Promise<void> {
    if (this.stopped) return;
    if (c.state === 'paused' && !(await this.probe(c))) return;
    const claimed = await this.sync.claim(c.accountId, c.id, this.config.FINANCE_CLAIM_SIZE, this.config.FINANCE_LEASE_MS);
    if (claimed.length === 0) return;
    const round: Round = { c, connector: this.pool.for(c), open: new Map(claimed.map((r) => [r.id, r])), stopped: false };
    try {
      for (const rec of claimed.filter((r) => r.entityType === 'contractor' || r.entityType === 'interaction')) {
        if (round.stopped) break;
        await this.entity(round, rec);
      }
      const payments = claimed.filter((r) => r.entityType === 'payment');
      if (!round.stopped) await this.payments(round, payments.filter((r) => r.op === 'upsert'));
      for (const rec of payments.filter((r) => r.op === 'remove')) {
        if (round.stopped) break;
        await this.removal(round, rec);
      }
    } finally {
      // Whatever this round did not get to goes back to the queue at once (lease cleared).
      for (const rec of round.open.values()) await this.sync.finish(undefined, c.accountId, rec, { state: 'pending', dueInMs: round.stopped ? this.config.FINANCE_UNAVAILABLE_RETRY_MS : 0 });
    }
  }

  /** A paused connection: one cheap call every FINANCE_PAUSE_PROBE_MS; true when it answers again. */
  private async probe(c: ConnectionRow): Promise<boolean> {
    if (c.nextProbeAt && c.nextProbeAt.getTime() > Date.now()) return false;
    try {
      await this.pool.for(c).probe();
    } catch (err) {
      const reason = err instanceof ConnectorError && err.failure === 'unauthorized' ? 'unauthorized' : err instanceof ConnectorError && err.failure === 'payment_required' ? 'payment_required' : (c.reason ?? 'payment_required');
      await this.connections.pause(c.accountId, c.id, reason, this.config.FINANCE_PAUSE_PROBE_MS);
      return false;
    }
    await this.connections.resume(c.accountId, c.id);
    this.logger.log(`connection ${c.id} (${c.target}) resumed`);
    return true;
  }

  // --- contractors and deals: a chain of steps each --------------------------------------------

  private async entity(round: Round, rec: ClaimedRecord): Promise<void> {
    const { c, connector } = round;
    const done = new Map<string, string>();
    const lookup = (kind: string, key: string) => done.get(`${kind}:${key}`);
    let steps: Step[];
    let sent: string;
    if (rec.entityType === 'contractor') {
      const data = await this.replicas.contractor(c.accountId, rec.entityId);
      if (!data) return this.fail(round, [rec], 'the contractor is not in the read model');
      // What is mapped decides the plan (an update only for a contractor already there): read it for every step's key first.
      for (const s of connector.contractorSteps(data, lookup, false)) {
        if (s.kind === null) continue;
        const m = (await this.sync.mappings(c.accountId, c.id, s.kind, [s.key])).get(s.key);
        if (m) done.set(`${s.kind}:${s.key}`, m.remoteId);
      }
      steps = connector.contractorSteps(data, lookup, rec.changed);
      sent = contractorHash(data);
    } else {
      const i = await this.replicas.interaction(c.accountId, rec.entityId);
      if (!i) return this.fail(round, [rec], 'the interaction is not in the read model');
      const contractor = (await this.sync.mappings(c.accountId, c.id, KIND.contractor, [i.contractorId])).get(i.contractorId);
      // Its deal_contractor is not in the target yet: wait for it, never fail.
      if (!contractor) return this.park(round, rec);
      const project = (await this.sync.mappings(c.accountId, c.id, KIND.interaction, [i.id])).get(i.id);
      if (project) done.set(`${KIND.interaction}:${i.id}`, project.remoteId);
      steps = connector.interactionSteps({ id: i.id, name: i.name, sum: i.sum, contractorRemoteId: contractor.remoteId }, lookup, rec.changed);
      sent = interactionHash(i);
    }
    for (const step of steps) {
      if (step.kind !== null && lookup(step.kind, step.key)) continue;
      if (!this.limiter.take(this.key(c, step.method))) return this.later(round, [rec], this.limiter.waitMs(this.key(c, step.method)));
      const unknown = (await this.sync.ledger(c.accountId, c.id, step.op, [step.key])).get(step.key) === 'sending';
      let phase: 'find' | 'run' = 'find';
      try {
        let remote = unknown ? await step.find() : null;
        if (!remote) {
          phase = 'run';
          await this.sync.ledgerSending(c.accountId, c.id, step.op, [step.key]);
          remote = await step.run();
        }
        this.limiter.ok(this.key(c, step.method));
        const remoteId = remote;
        const kind = step.kind;
        await this.ds.transaction(async (m) => {
          if (kind !== null) await this.sync.map(m, c.accountId, c.id, kind, step.key, remoteId, { parentId: rec.entityId });
          await this.sync.ledgerFinish(m, c.accountId, c.id, step.op, [step.key], 'done', [remoteId]);
        });
        if (kind !== null) done.set(`${kind}:${step.key}`, remoteId);
      } catch (err) {
        return this.failure(round, [rec], err, step.method, phase === 'run' ? { op: step.op, keys: [step.key] } : undefined);
      }
    }
    await this.synced(round, [{ rec, remoteId: lookup(KIND[rec.entityType], rec.entityId) ?? null }], sent);
    // Whatever waited for this one may go now.
    await this.sync.releaseParked(c.accountId, c.id);
  }

  // --- payments: bulk create, bisected on a whole-batch refusal -------------------------------

  private async payments(round: Round, recs: ClaimedRecord[]): Promise<void> {
    if (recs.length === 0) return;
    const { c, connector } = round;
    const rows = await this.replicas.payments(c.accountId, recs.map((r) => r.entityId));
    const mapped = await this.sync.mappings(c.accountId, c.id, KIND.payment, recs.map((r) => r.entityId));
    const interactions = new Map<string, InteractionRow | null>();
    const ready: { rec: ClaimedRecord; data: PaymentData }[] = [];
    const already: { rec: ClaimedRecord; remoteId: string }[] = [];
    for (const rec of recs) {
      const m = mapped.get(rec.entityId);
      if (m) {
        already.push({ rec, remoteId: m.remoteId });
        continue;
      }
      const p = rows.get(rec.entityId);
      if (!p) {
        await this.fail(round, [rec], 'the payment is not in the read model');
        continue;
      }
      if (!interactions.has(p.interactionId)) interactions.set(p.interactionId, await this.replicas.interaction(c.accountId, p.interactionId));
      const i = interactions.get(p.interactionId);
      const deps = i ? await this.dependencies(c, i) : null;
      if (!deps) {
        await this.park(round, rec);
        continue;
      }
      ready.push({ rec, data: { id: p.id, type: p.type, name: p.name, sum: p.sum, date: p.date, ...deps } });
    }
    if (already.length) await this.synced(round, already);
    // Those whose earlier create may have been applied are looked up first (by importedId and marker).
    const ledger = await this.sync.ledger(c.accountId, c.id, CREATE_PAYMENT, ready.map((r) => r.data.id));
    const unknown = ready.filter((r) => ledger.get(r.data.id) === 'sending');
    let toSend = ready.filter((r) => ledger.get(r.data.id) !== 'sending');
    if (unknown.length) {
      try {
        const found = await connector.findPayments(unknown.map((u) => u.data));
        const hits = unknown.filter((u) => found.has(u.data.id));
        for (const u of hits) if (found.get(u.data.id)!.length > 1) this.logger.warn(`payment ${u.data.id}: ${found.get(u.data.id)!.length} remote objects (see reconciliation duplicates)`);
        await this.mapped(round, hits.map((u) => ({ rec: u.rec, remoteId: found.get(u.data.id)![0]! })));
        toSend = [...unknown.filter((u) => !found.has(u.data.id)), ...toSend];
      } catch (err) {
        await this.failure(round, unknown.map((u) => u.rec), err, 'lookup');
      }
    }
    const size = connector.paymentBatch.size;
    for (let i = 0; i < toSend.length && !round.stopped; i += size) await this.batch(round, toSend.slice(i, i + size));
  }

  private async dependencies(c: ConnectionRow, i: InteractionRow): Promise<{ contractorRemoteId: string; projectRemoteId: string } | null> {
    const contractor = (await this.sync.mappings(c.accountId, c.id, KIND.contractor, [i.contractorId])).get(i.contractorId);
    const project = (await this.sync.mappings(c.accountId, c.id, KIND.interaction, [i.id])).get(i.id);
    return contractor && project ? { contractorRemoteId: contractor.remoteId, projectRemoteId: project.remoteId } : null;
  }

  private async batch(round: Round, items: { rec: ClaimedRecord; data: PaymentData }[]): Promise<void> {
    const { c, connector } = round;
    if (round.stopped || items.length === 0) return;
    const method = this.key(c, connector.paymentBatch.method);
    if (!this.limiter.take(method)) return this.later(round, items.map((i) => i.rec), this.limiter.waitMs(method));
    const keys = items.map((i) => i.data.id);
    await this.sync.ledgerSending(c.accountId, c.id, CREATE_PAYMENT, keys);
    let ids: string[];
    try {
      ids = await connector.createPayments(items.map((i) => i.data));
    } catch (err) {
      if (err instanceof ConnectorError && err.failure === 'rejected') {
        this.limiter.ok(method);
        await this.sync.ledgerFinish(undefined, c.accountId, c.id, CREATE_PAYMENT, keys, 'failed');
        // The whole batch was refused for one item or a few: halve until each bad one stands alone.
        if (items.length === 1) return this.fail(round, [items[0]!.rec], err.message);
        const half = Math.ceil(items.length / 2);
        await this.batch(round, items.slice(0, half));
        await this.batch(round, items.slice(half));
        return;
      }
      return this.failure(round, items.map((i) => i.rec), err, connector.paymentBatch.method, { op: CREATE_PAYMENT, keys });
    }
    this.limiter.ok(method);
    await this.mapped(round, items.map((item, n) => ({ rec: item.rec, remoteId: ids[n]! })));
  }

  /** Payments now known in the target: mapping, ledger and record in one go, then their events. */
  private async mapped(round: Round, hits: { rec: ClaimedRecord; remoteId: string }[]): Promise<void> {
    if (hits.length === 0) return;
    const { c } = round;
    await this.ds.transaction(async (m) => {
      for (const h of hits) await this.sync.map(m, c.accountId, c.id, KIND.payment, h.rec.entityId, h.remoteId);
      await this.sync.ledgerFinish(m, c.accountId, c.id, CREATE_PAYMENT, hits.map((h) => h.rec.entityId), 'done', hits.map((h) => h.remoteId));
    });
    await this.synced(round, hits);
  }

  // --- removals -------------------------------------------------------------------------------

  private async removal(round: Round, rec: ClaimedRecord): Promise<void> {
    const { c, connector } = round;
    let mapping = (await this.sync.mappings(c.accountId, c.id, KIND.payment, [rec.entityId])).get(rec.entityId);
    try {
      if (!mapping && (await this.sync.ledger(c.accountId, c.id, CREATE_PAYMENT, [rec.entityId])).get(rec.entityId) === 'sending') {
        // Its create may have gone through: find it so that it can be removed.
        const p = (await this.replicas.payments(c.accountId, [rec.entityId])).get(rec.entityId);
        if (p) {
          const found = await connector.findPayments([{ id: p.id, type: p.type, name: p.name, sum: p.sum, date: p.date, contractorRemoteId: '', projectRemoteId: '' }]);
          const remoteId = found.get(p.id)?.[0];
          if (remoteId) {
            await this.ds.transaction((m) => this.sync.map(m, c.accountId, c.id, KIND.payment, p.id, remoteId));
            mapping = { remoteId, remoteDeleted: false, origin: 'papka', parentId: null };
          }
        }
      }
    } catch (err) {
      return this.failure(round, [rec], err, 'lookup');
    }
    if (!mapping || mapping.remoteDeleted) return this.synced(round, [{ rec, remoteId: mapping?.remoteId ?? null }]);
    const method = this.key(c, connector.removeMethod);
    if (!this.limiter.take(method)) return this.later(round, [rec], this.limiter.waitMs(method));
    await this.sync.ledgerSending(c.accountId, c.id, REMOVE_PAYMENT, [rec.entityId]);
    try {
      // Removing twice is harmless (the connector treats "already gone" as done), so no look-up first.
      await connector.removePayments([mapping.remoteId]);
    } catch (err) {
      return this.failure(round, [rec], err, connector.removeMethod, { op: REMOVE_PAYMENT, keys: [rec.entityId] });
    }
    this.limiter.ok(method);
    const remoteId = mapping.remoteId;
    await this.ds.transaction(async (m) => {
      await this.sync.markRemoteDeleted(m, c.accountId, c.id, KIND.payment, rec.entityId);
      await this.sync.ledgerFinish(m, c.accountId, c.id, REMOVE_PAYMENT, [rec.entityId], 'done', [remoteId]);
    });
    await this.synced(round, [{ rec, remoteId }]);
  }

  // --- outcomes -------------------------------------------------------------------------------

  private key(c: ConnectionRow, method: string): string {
    return `${c.id} ${method}`;
  }

  private async synced(round: Round, done: { rec: ClaimedRecord; remoteId: string | null }[], syncedHash?: string): Promise<void> {
    const { c } = round;
    await this.commands.run(c.accountId, async (t) => {
      for (const { rec, remoteId } of done) {
        await this.sync.finish(t.manager, c.accountId, rec, { state: 'synced', remoteId, syncedHash });
        await t.emit(FinanceRecordSynced, rec.entityId, { target: c.target, entityType: rec.entityType, entityId: rec.entityId, remoteId, attempts: rec.attempts, lastError: null });
      }
    });
    for (const { rec } of done) round.open.delete(rec.id);
  }

  private async fail(round: Round, recs: ClaimedRecord[], message: string): Promise<void> {
    const { c } = round;
    await this.commands.run(c.accountId, async (t) => {
      for (const rec of recs) {
        await this.sync.finish(t.manager, c.accountId, rec, { state: 'failed', attempts: rec.attempts + 1, lastError: message });
        await t.emit(FinanceRecordFailed, rec.entityId, { target: c.target, entityType: rec.entityType, entityId: rec.entityId, remoteId: null, attempts: rec.attempts + 1, lastError: message });
      }
    });
    for (const rec of recs) round.open.delete(rec.id);
  }

  private async park(round: Round, rec: ClaimedRecord): Promise<void> {
    await this.sync.finish(undefined, round.c.accountId, rec, { state: 'parked' });
    round.open.delete(rec.id);
  }

  /** Back in the queue without counting an attempt. */
  private async later(round: Round, recs: ClaimedRecord[], dueInMs: number, lastError?: string): Promise<void> {
    for (const rec of recs) {
      await this.sync.finish(undefined, round.c.accountId, rec, { state: 'pending', dueInMs, lastError });
      round.open.delete(rec.id);
    }
  }

  /**
   * What a failed call means for its records. `sent`: the ledger rows of a create that was
   * refused without being applied are closed; after an unknown outcome they stay `sending`, so
   * the next attempt looks the objects up first.
   */
  private async failure(round: Round, recs: ClaimedRecord[], err: unknown, method: string, sent?: { op: string; keys: string[] }): Promise<void> {
    const { c } = round;
    const limiterKey = this.key(c, err instanceof ConnectorError ? err.method : method);
    if (!(err instanceof ConnectorError)) {
      this.logger.error(`connection ${c.id}: ${(err as Error).message}`, (err as Error).stack);
      return this.retry(round, recs, `internal error: ${(err as Error).message}`);
    }
    if (err.failure !== 'rate_limited') this.limiter.ok(limiterKey);
    const notApplied = err.failure !== 'outcome_unknown';
    if (sent && notApplied) await this.sync.ledgerFinish(undefined, c.accountId, c.id, sent.op, sent.keys, 'failed');
    switch (err.failure) {
      case 'rate_limited':
        this.limiter.limited(limiterKey, err.retryAfterMs);
        return this.later(round, recs, this.limiter.waitMs(limiterKey), err.message);
      case 'unavailable':
        round.stopped = true;
        return this.later(round, recs, this.config.FINANCE_UNAVAILABLE_RETRY_MS, err.message);
      case 'unauthorized':
      case 'payment_required':
        round.stopped = true;
        await this.connections.pause(c.accountId, c.id, err.failure, this.config.FINANCE_PAUSE_PROBE_MS);
        this.logger.warn(`connection ${c.id} (${c.target}) paused: ${err.failure}`);
        return this.later(round, recs, 0, err.message);
      case 'rejected':
        return this.fail(round, recs, err.message);
      case 'outcome_unknown':
        return this.retry(round, recs, err.message);
    }
  }

  /** A counted attempt: the next per FINANCE_RETRY_SCHEDULE, or `failed` once it runs out. */
  private async retry(round: Round, recs: ClaimedRecord[], message: string): Promise<void> {
    const schedule = this.config.FINANCE_RETRY_SCHEDULE;
    const exhausted = recs.filter((r) => r.attempts + 1 >= schedule.length);
    if (exhausted.length) await this.fail(round, exhausted, message);
    for (const rec of recs.filter((r) => r.attempts + 1 < schedule.length)) {
      await this.sync.finish(undefined, round.c.accountId, rec, { state: 'pending', attempts: rec.attempts + 1, lastError: message, dueInMs: schedule[rec.attempts + 1] });
      round.open.delete(rec.id);
    }
  }
}
