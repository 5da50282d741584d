import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { FinanceRecordFailed, FinanceRecordSynced, type FinanceEntityType, type PauseReason } from '@papka/contracts';
import { Commands } from '@papka/messaging';
import { CONFIG, type FinanceSyncConfig } from '../config';
import { ConnectorError, definitionOf, InvalidSettings, targetsTaking, type Connector, type Dependency, type DocumentData, type Done, type EntityData, type Held, type ItemResult, type PaymentData, type Settings, type Step } from '../connectors';
import { ConnectorPool } from '../connections/connector-pool';
import { ConnectionsRepository, type ConnectionRow } from '../connections/connections.repository';
import { contractorHash, interactionHash } from '../replicas/content-hash';
import { ReplicasRepository, type PaymentRow } from '../replicas/replicas.repository';
import { MethodLimiter } from './limiter';
import { KIND, SyncRepository, type ClaimedRecord } from './sync.repository';

/** The entity type whose own object a mapping kind names (the reverse of MAPPING_KIND). */
const ENTITY_OF_KIND = new Map(Object.entries(KIND).map(([type, kind]) => [kind, type as FinanceEntityType]));

const CREATE_PAYMENT = 'transaction.create';
const REMOVE_PAYMENT = 'transaction.remove';

/** A payment's interaction as its connector sees it: everything of PaymentData but the payment's own fields. */
type PaymentLinks = Omit<PaymentData, 'id' | 'type' | 'name' | 'sum' | 'date'>;

/** One round of one connection: what it has claimed and whether it must stop (target down, paused). */
interface Round {
  c: ConnectionRow;
  connector: Connector;
  open: Map<string, ClaimedRecord>;
  stopped: boolean;
  /** A call was held back by the limiter or answered 429 in this round. */
  blocked: boolean;
  /** A call went through in this round. */
  sent: boolean;
  /** Limiter keys this round was let through on: a probe among them is released when the round ends. */
  taken: Set<string>;
  /** Half its lease: past it the round starts nothing new (see `yields`). */
  deadline: number;
  /** When the connection was last seen unchanged (see `yields`). */
  checkedAt: number;
}

/**
 * The engine's worker, the same for every target: every FINANCE_WORKER_POLL_MS it takes each
 * connected connection's due records (FOR UPDATE SKIP LOCKED under a lease, so replicas share
 * the work) and brings them to the target through its connector, in dependency order:
 * contractors, deals, documents (each a chain of the connector's steps), then payments in bulk
 * batches, then removals. An entity the connector says is not for its target is synced as not
 * applicable; one whose dependencies are not mapped yet is parked until they are. Each remote
 * step is recorded in the ledger before the call; a step whose earlier call may have been
 * applied is looked up in the target first and only created when it is not there.
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
    // `rate_limited` is the limiter's to lift, method by method: no pause probe for it. A probe
    // that resumes the connection may have stored new settings: the next round reads the row
    // again (and the pool builds its connector anew), this one ends.
    if (c.state === 'paused' && c.reason !== 'rate_limited') {
      await this.probe(c);
      return;
    }
    const deadline = Date.now() + this.config.FINANCE_LEASE_MS / 2;
    const claimed = await this.sync.claim(c.accountId, c.id, this.config.FINANCE_CLAIM_SIZE, this.config.FINANCE_LEASE_MS);
    if (claimed.length === 0) return;
    const round: Round = { c, connector: this.pool.for(c), open: new Map(claimed.map((r) => [r.id, r])), stopped: false, blocked: false, sent: false, taken: new Set(), deadline, checkedAt: Date.now() };
    try {
      for (const rec of claimed.filter((r) => r.entityType !== 'payment')) {
        if (await this.yields(round)) break;
        await this.entity(round, rec);
      }
      const payments = claimed.filter((r) => r.entityType === 'payment');
      if (!(await this.yields(round))) await this.payments(round, payments.filter((r) => r.op === 'upsert'));
      for (const rec of payments.filter((r) => r.op === 'remove')) {
        if (await this.yields(round)) break;
        await this.removal(round, rec);
      }
    } finally {
      // Whatever this round did not get to goes back to the queue at once (lease cleared).
      for (const rec of round.open.values()) await this.sync.finish(undefined, c.accountId, rec, { state: 'pending', dueInMs: round.stopped ? this.config.FINANCE_UNAVAILABLE_RETRY_MS : 0 });
      await this.rateLimitState(round);
      // A probe answered (ok, 429) is settled already; one that ended otherwise (its look-up failed
      // under another method, a database error) would keep its method closed for good.
      for (const key of round.taken) this.limiter.release(key);
    }
  }

  /**
   * `paused` / `rate_limited`: a round had work and none of it went out, because what it needed
   * was blocked by 429 back-off. The first call that goes through clears it. The worker keeps
   * running the connection meanwhile (the limiter probes each blocked method once per step).
   */
  private async rateLimitState(round: Round): Promise<void> {
    const { c } = round;
    if (round.sent && c.state === 'paused' && c.reason === 'rate_limited') {
      await this.connections.resume(c.accountId, c.id, 'rate_limited');
      this.logger.log(`connection ${c.id} (${c.target}) no longer rate limited`);
    } else if (round.blocked && !round.sent && c.state === 'active') {
      await this.connections.markRateLimited(c.accountId, c.id);
      this.logger.warn(`connection ${c.id} (${c.target}) rate limited: every call it needs is in 429 back-off`);
    }
  }

  /**
   * A paused connection: one call every FINANCE_PAUSE_PROBE_MS, resumed when it answers. The
   * probe is `check` of the stored settings, and what it answers is stored on resuming: a
   * connection paused for its settings (a closed bank account) resumes once the target takes them
   * again (or at once on a PUT with others), and one stored paused by its first PUT (the
   * subscription had lapsed, so `check` never ran) gets the defaults `check` fills in (Adesk's
   * bank account, MoySklad's organization and expense item) instead of sending without them.
   */
  private async probe(c: ConnectionRow): Promise<void> {
    if (c.nextProbeAt && c.nextProbeAt.getTime() > Date.now()) return;
    let settings: Settings;
    try {
      settings = await this.pool.for(c).check({ ...c.settings });
    } catch (err) {
      const failure = err instanceof InvalidSettings ? 'rejected' : err instanceof ConnectorError ? err.failure : undefined;
      const reason: PauseReason =
        failure === 'unauthorized' || failure === 'payment_required' ? failure : failure === 'rejected' || failure === 'settings_refused' ? 'settings_refused' : (c.reason ?? 'payment_required');
      await this.connections.pause(c.accountId, c.id, reason, this.config.FINANCE_PAUSE_PROBE_MS);
      return;
    }
    await this.connections.resume(c.accountId, c.id, undefined, settings);
    this.logger.log(`connection ${c.id} (${c.target}) resumed`);
  }

  // --- contractors, deals, documents: a chain of steps each ----------------------------------

  /** This connection's remote id of a local entity (by mapping kind), or undefined. */
  private async remoteOf(c: ConnectionRow, kind: string, key: string | null): Promise<string | undefined> {
    if (!key) return undefined;
    return (await this.sync.mappings(c.accountId, c.id, kind, [key])).get(key)?.remoteId;
  }

  /**
   * A live document as its connector sees it (its contractor with this connection's remote id, and
   * for a target with `documentsWithPayment` the payment that pays it in full, in its hash as
   * ReplicasEvents queues it); null when the read model lacks it.
   */
  private async documentData(c: ConnectionRow, id: string): Promise<DocumentData | null> {
    const d = await this.replicas.document(c.accountId, id, undefined, { payment: definitionOf(c.target).documentsWithPayment === true });
    if (!d || d.deleted) return null;
    const { deleted: _deleted, ...rest } = d;
    const contractor = d.contractor ? { ...d.contractor, remoteId: (await this.remoteOf(c, KIND.contractor, d.contractor.id)) ?? null } : null;
    return { ...rest, contractor };
  }

  /** The entity as its connector sees it, with this connection's remote ids filled in; null when the read model lacks it. */
  private async load(c: ConnectionRow, rec: ClaimedRecord): Promise<{ e: EntityData; hash: string } | null> {
    switch (rec.entityType) {
      case 'contractor': {
        const data = await this.replicas.contractor(c.accountId, rec.entityId);
        return data ? { e: { type: 'contractor', data }, hash: contractorHash(data) } : null;
      }
      case 'interaction': {
        const i = await this.replicas.interaction(c.accountId, rec.entityId);
        if (!i) return null;
        const contractorRemoteId = (await this.remoteOf(c, KIND.contractor, i.contractorId)) ?? null;
        return { e: { type: 'interaction', data: { id: i.id, name: i.name, sum: i.sum, contractorId: i.contractorId, contractorRemoteId } }, hash: interactionHash(i) };
      }
      case 'document': {
        const data = await this.documentData(c, rec.entityId);
        return data ? { e: { type: 'document', data }, hash: data.contentHash } : null;
      }
      case 'payment':
        return null;
    }
  }

  private stepsOf(connector: Connector, e: EntityData, done: Done, changed: boolean, held: Held): Step[] | null {
    switch (e.type) {
      case 'contractor':
        return connector.contractorSteps?.(e.data, done, changed, held) ?? null;
      case 'interaction':
        return connector.interactionSteps?.(e.data, done, changed) ?? null;
      case 'document':
        return connector.documentSteps?.(e.data, done, changed) ?? null;
      case 'payment':
        return null;
    }
  }

  /** The first dependency the connector names that is not mapped on this connection yet (`known`: mappings read already, `kind:key`). */
  private async missing(c: ConnectionRow, connector: Connector, e: EntityData, known?: Map<string, string>): Promise<Dependency | null> {
    for (const dep of connector.dependencies?.(e) ?? []) {
      if (known?.get(`${dep.kind}:${dep.key}`) || (await this.remoteOf(c, dep.kind, dep.key))) continue;
      // One that is not applicable to this target will never be mapped: the entity goes without it.
      const type = ENTITY_OF_KIND.get(dep.kind);
      if (type && (await this.sync.isNotApplicable(c.accountId, c.id, type, dep.key))) continue;
      return dep;
    }
    return null;
  }

  private async entity(round: Round, rec: ClaimedRecord): Promise<void> {
    const { c, connector } = round;
    const done = new Map<string, string>();
    const lookup: Done = (kind, key) => done.get(`${kind}:${key}`);
    const held: Held = (kind) => [...done.keys()].filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1));
    const loaded = await this.load(c, rec);
    if (!loaded) {
      // Deleted in Papka while its record waited: nothing to send, and no failure to show.
      if (rec.entityType === 'document' && (await this.replicas.document(c.accountId, rec.entityId))?.deleted) return this.notApplicable(round, [rec], 'the document was deleted in Papka before it was sent');
      return this.fail(round, [rec], `the ${rec.entityType} is not in the read model`);
    }
    const { e, hash: sent } = loaded;
    const applies = connector.applies?.(e) ?? true;
    if (applies !== true) {
      await this.notApplicable(round, [rec], applies);
      // Whatever waited for it goes on without it (see `missing`).
      await this.sync.releaseParked(c.accountId, c.id, [`${KIND[rec.entityType]}:${rec.entityId}`]);
      return;
    }
    // Its dependencies (an Adesk deal's contractor, a MoySklad invoice's counterparty) are not in the target yet: wait, never fail.
    const dep = await this.missing(c, connector, e);
    if (dep) return this.park(round, rec, dep);
    // What is mapped decides the plan (an update only for an object already there, a removal of
    // one it no longer has): what is mapped under it, and every step's key, are read first.
    for (const [k, remote] of await this.sync.childMappings(c.accountId, c.id, rec.entityId)) done.set(k, remote);
    const plan = this.stepsOf(connector, e, lookup, false, held);
    if (!plan) return this.fail(round, [rec], `the ${c.target} connector has no steps for a ${rec.entityType}`);
    let premapped = false;
    for (const s of plan) {
      if (s.kind === null) continue;
      if (lookup(s.kind, s.key)) {
        premapped = true;
        continue;
      }
      const remote = await this.remoteOf(c, s.kind, s.key);
      if (remote) {
        done.set(`${s.kind}:${s.key}`, remote);
        premapped = true;
      }
    }
    // Objects an earlier attempt made for an entity never synced (a later step waited or was
    // refused) hold what that attempt sent (`sentHash`): changed since, they get its updates too.
    const stale = rec.neverSynced && rec.sentHash !== sent;
    const changed = rec.changed || (premapped && stale);
    const first = await this.steps(round, rec, this.stepsOf(connector, e, lookup, changed, held) ?? [], done, sent);
    if (first === 'stopped') return;
    // A create whose look-up found the object an earlier attempt made (its answer lost): the same,
    // once the plan knows the object.
    if (first === 'found' && !changed && stale && (await this.steps(round, rec, this.stepsOf(connector, e, lookup, true, held) ?? [], done, sent)) === 'stopped') return;
    const own = lookup(KIND[rec.entityType], rec.entityId) ?? null;
    await this.synced(round, [{ rec, remoteId: own }], sent);
    // Whatever waited for this one (or for any object it now has) may go now.
    await this.sync.releaseParked(c.accountId, c.id, [`${KIND[rec.entityType]}:${rec.entityId}`, ...done.keys()]);
    // A document now in the target (an invoice rendered late, say): its deal's payments that were not applicable are asked again.
    if (e.type === 'document' && own && e.data.interactionId) await this.sync.requeueNotApplicablePayments(this.ds.manager, c.accountId, e.data.interactionId, c.id);
  }

  /**
   * Runs an entity's steps in order, each create skipped once mapped and each removal once
   * unmapped, mapping what each made in `done`. 'stopped': the record was handed on (failed,
   * later); 'found': done, and a create's look-up found its object made by an earlier attempt.
   */
  private async steps(round: Round, rec: ClaimedRecord, steps: Step[], done: Map<string, string>, hash: string): Promise<'done' | 'found' | 'stopped'> {
    const { c } = round;
    const lookup: Done = (kind, key) => done.get(`${kind}:${key}`);
    let found = false;
    for (const step of steps) {
      // A create is skipped once mapped; a removal once unmapped.
      if (step.kind !== null && Boolean(lookup(step.kind, step.key)) !== Boolean(step.removes)) continue;
      const unknown = (await this.sync.ledger(c.accountId, c.id, step.op, [step.key])).get(step.key) === 'sending';
      // Its look-up goes first, under its own method when it has one: that method is gated too.
      const findMethod = unknown ? step.findMethod : undefined;
      if (findMethod && !this.gate(round, findMethod)) {
        await this.later(round, [rec], this.limiter.waitMs(this.key(c, findMethod)));
        return 'stopped';
      }
      if (!this.gate(round, step.method)) {
        if (findMethod) this.limiter.release(this.key(c, findMethod));
        await this.later(round, [rec], this.limiter.waitMs(this.key(c, step.method)));
        return 'stopped';
      }
      let phase: 'find' | 'run' = 'find';
      try {
        const kind = step.kind;
        const taken = async (remoteId: string): Promise<boolean> => {
          if (kind === null) return false;
          const owner = await this.sync.localOf(c.accountId, c.id, kind, remoteId);
          return owner !== null && owner.localId !== step.key;
        };
        let remote = unknown ? await step.find(taken) : null;
        if (findMethod) this.passed(round, findMethod);
        if (remote) {
          if (step.kind !== null && !step.removes) found = true;
          // Its own method was not called: a 429 block on it stands (the gate's probe is handed back).
          this.limiter.release(this.key(c, step.method));
        } else {
          phase = 'run';
          await this.sync.ledgerSending(c.accountId, c.id, step.op, [step.key], step.removes ? undefined : { id: rec.id, hash });
          remote = await step.run();
          this.passed(round, step.method);
        }
        const remoteId = remote;
        await this.ds.transaction(async (m) => {
          if (kind !== null && step.removes) await this.sync.unmap(m, c.accountId, c.id, kind, step.key);
          else if (kind !== null) await this.sync.map(m, c.accountId, c.id, kind, step.key, remoteId, { parentId: rec.entityId });
          await this.sync.ledgerFinish(m, c.accountId, c.id, step.op, [step.key], 'done', [remoteId]);
        });
        if (kind !== null && step.removes) done.delete(`${kind}:${step.key}`);
        else if (kind !== null) done.set(`${kind}:${step.key}`, remoteId);
      } catch (err) {
        await this.failure(round, [rec], err, step.method, phase === 'run' ? { op: step.op, keys: [step.key] } : undefined);
        return 'stopped';
      }
    }
    return found ? 'found' : 'done';
  }

  // --- payments: bulk create, bisected on a whole-batch refusal -------------------------------

  /**
   * What payments on these interactions carry to their connector: each interaction's contractor,
   * deal and invoice with this connection's remote ids (null: the interaction is not in the read
   * model). A handful of statements for the lot, whatever their number (an invoice's own data
   * is read per invoice).
   */
  private async paymentLinks(c: ConnectionRow, interactionIds: string[]): Promise<Map<string, PaymentLinks | null>> {
    const ids = [...new Set(interactionIds)];
    const interactions = await this.replicas.interactions(c.accountId, ids);
    const docs = await this.replicas.documentsOfMany(c.accountId, [...interactions.keys()]);
    const invoices = new Map([...docs].flatMap(([iid, list]) => {
      const invoice = list.find((d) => d.kind === 'invoice');
      return invoice ? [[iid, invoice] as const] : [];
    }));
    const contractorIds = [...new Set([...interactions.values()].map((i) => i.contractorId))];
    const [contractors, deals, invoiceMaps, paidBy] = await Promise.all([
      this.sync.mappings(c.accountId, c.id, KIND.contractor, contractorIds),
      this.sync.mappings(c.accountId, c.id, KIND.interaction, [...interactions.keys()]),
      this.sync.mappings(c.accountId, c.id, KIND.document, [...invoices.values()].map((d) => d.id)),
      // Read only for a target that needs it (the DMS): one statement more per batch.
      definitionOf(c.target).paymentsDependOnSiblings ? this.replicas.paidInFullBy(c.accountId, new Map([...invoices].map(([iid, d]) => [iid, d.sum]))) : undefined,
    ]);
    const out = new Map<string, PaymentLinks | null>();
    for (const id of ids) {
      const i = interactions.get(id);
      if (!i) {
        out.set(id, null);
        continue;
      }
      const invoice = invoices.get(id);
      out.set(id, {
        interactionId: i.id,
        contractorId: i.contractorId,
        contractorRemoteId: contractors.get(i.contractorId)?.remoteId ?? '',
        projectRemoteId: deals.get(i.id)?.remoteId ?? '',
        invoice: invoice
          ? {
              id: invoice.id,
              templateId: invoice.templateId,
              sum: invoice.sum,
              remoteId: invoiceMaps.get(invoice.id)?.remoteId ?? null,
              document: await this.documentData(c, invoice.id),
              ...(paidBy ? { paidInFullBy: paidBy.get(id) ?? null } : {}),
            }
          : null,
      });
    }
    return out;
  }

  /** A payment as its connector sees it (`links`: from paymentLinks); `known` collects the remote ids read, for the dependencies. */
  private paymentData(p: PaymentRow, links: Map<string, PaymentLinks | null>, known = new Map<string, string>()): PaymentData | null {
    const l = links.get(p.interactionId);
    if (!l) return null;
    // What was read here need not be read again for the dependencies.
    if (l.contractorRemoteId) known.set(`${KIND.contractor}:${l.contractorId}`, l.contractorRemoteId);
    if (l.projectRemoteId) known.set(`${KIND.interaction}:${l.interactionId}`, l.projectRemoteId);
    if (l.invoice?.remoteId) known.set(`${KIND.document}:${l.invoice.id}`, l.invoice.remoteId);
    return { id: p.id, type: p.type, name: p.name, sum: p.sum, date: p.date, ...l };
  }

  private async payments(round: Round, recs: ClaimedRecord[]): Promise<void> {
    if (recs.length === 0) return;
    const { c, connector } = round;
    if (!connector.createPayments || !connector.paymentBatch) return this.fail(round, recs, `the ${c.target} connector cannot create payments`);
    const rows = await this.replicas.payments(c.accountId, recs.map((r) => r.entityId));
    const mapped = await this.sync.mappings(c.accountId, c.id, KIND.payment, recs.map((r) => r.entityId));
    const pending = recs.filter((r) => !mapped.has(r.entityId)).flatMap((r) => rows.get(r.entityId)?.interactionId ?? []);
    const links = await this.paymentLinks(c, pending);
    const known = new Map<string, string>();
    const ready: { rec: ClaimedRecord; data: PaymentData }[] = [];
    const takesDocuments = targetsTaking('document').includes(c.target);
    const unknownDocs = takesDocuments ? await this.replicas.firstUnknownDocumentOfMany(c.accountId, [...new Set(pending)]) : new Map<string, string>();
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
      const data = this.paymentData(p, links, known);
      // Its interaction is not in the read model yet (its event comes with the payment's, so rarely): wait.
      if (!data) {
        await this.park(round, rec, null);
        continue;
      }
      // An attached document not in the read model yet may be its invoice: neither `applies` nor `dependencies` can be asked until it is.
      if (takesDocuments) {
        const unknownDoc = unknownDocs.get(p.interactionId);
        if (unknownDoc) {
          await this.parkForDocument(round, rec, p.interactionId, unknownDoc);
          continue;
        }
      }
      const e: EntityData = { type: 'payment', data };
      const applies = connector.applies?.(e) ?? true;
      if (applies !== true) {
        await this.notApplicable(round, [rec], applies);
        continue;
      }
      const dep = await this.missing(c, connector, e, known);
      if (dep) {
        await this.park(round, rec, dep);
        continue;
      }
      ready.push({ rec, data });
    }
    if (already.length) await this.synced(round, already);
    // Those whose earlier create may have been applied are looked up first (by importedId and marker).
    const ledger = await this.sync.ledger(c.accountId, c.id, CREATE_PAYMENT, ready.map((r) => r.data.id));
    const unknown = ready.filter((r) => ledger.get(r.data.id) === 'sending');
    let toSend = ready.filter((r) => ledger.get(r.data.id) !== 'sending');
    if (unknown.length) toSend = [...(await this.lookUpPayments(round, unknown)), ...toSend];
    // Up to `inFlight` batches out at once: one's database work overlaps the others' calls.
    const { size, inFlight = 1 } = connector.paymentBatch;
    const batches: (typeof toSend)[] = [];
    for (let i = 0; i < toSend.length; i += size) batches.push(toSend.slice(i, i + size));
    let next = 0;
    const lanes = await Promise.allSettled(
      Array.from({ length: Math.min(Math.max(1, inFlight), batches.length) }, async () => {
        while (next < batches.length && !(await this.yields(round))) await this.batch(round, batches[next++]!);
      }),
    );
    // Every lane has ended before the round hands back what it did not get to.
    const broken = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (broken) throw broken.reason;
  }

  /**
   * Payments whose earlier create may have been applied, looked up one date at a time (Adesk
   * lists a day's transactions per call), each look-up gated by the connector's
   * `paymentLookupMethod` and within the round's deadline; what each date finds is mapped at
   * once. Answers those not found (to be sent). A look-up that fails hands its date's records on
   * (a 429 blocks that method), and the dates not reached wait for the next round. It used to be
   * one ungated look-up of every date whose first failure threw away every hit before it, so a
   * limit below the number of dates had those payments looked up again from the first date,
   * each round, for good.
   */
  private async lookUpPayments(round: Round, unknown: { rec: ClaimedRecord; data: PaymentData }[]): Promise<{ rec: ClaimedRecord; data: PaymentData }[]> {
    const { c, connector } = round;
    if (!connector.findPayments) return unknown;
    const method = connector.paymentLookupMethod ?? 'lookup';
    const byDate = new Map<string, typeof unknown>();
    for (const u of unknown) byDate.set(u.data.date, [...(byDate.get(u.data.date) ?? []), u]);
    const notFound: typeof unknown = [];
    const dates = [...byDate.keys()].sort();
    for (const [n, date] of dates.entries()) {
      const group = byDate.get(date)!;
      if ((await this.yields(round)) || !this.gate(round, method)) {
        const rest = dates.slice(n).flatMap((d) => byDate.get(d)!.map((u) => u.rec));
        await this.later(round, rest, this.limiter.waitMs(this.key(c, method)));
        break;
      }
      let found: Map<string, string[]>;
      try {
        found = await connector.findPayments(group.map((u) => u.data));
      } catch (err) {
        await this.failure(round, group.map((u) => u.rec), err, method);
        continue;
      }
      this.passed(round, method);
      const hits = group.filter((u) => found.has(u.data.id));
      for (const u of hits) if (found.get(u.data.id)!.length > 1) this.logger.warn(`payment ${u.data.id}: ${found.get(u.data.id)!.length} remote objects (see reconciliation duplicates)`);
      await this.mapped(round, hits.map((u) => ({ rec: u.rec, remoteId: found.get(u.data.id)![0]! })));
      notFound.push(...group.filter((u) => !found.has(u.data.id)));
    }
    return notFound;
  }

  private async batch(round: Round, items: { rec: ClaimedRecord; data: PaymentData }[]): Promise<void> {
    const { c, connector } = round;
    if (items.length === 0 || (await this.yields(round))) return;
    const batchMethod = connector.paymentBatch!.method;
    const method = this.key(c, batchMethod);
    if (!this.gate(round, batchMethod)) return this.later(round, items.map((i) => i.rec), this.limiter.waitMs(method));
    const keys = items.map((i) => i.data.id);
    await this.sync.ledgerSending(c.accountId, c.id, CREATE_PAYMENT, keys);
    let results: ItemResult[];
    try {
      results = await connector.createPayments!(items.map((i) => i.data));
      // A success that does not answer one result per item cannot be mapped: find them instead.
      if (results.length !== items.length) throw new ConnectorError('outcome_unknown', `bulk create answered ${results.length} results for ${items.length} items`, batchMethod);
    } catch (err) {
      if (err instanceof ConnectorError && err.failure === 'rejected') {
        this.limiter.ok(method);
        await this.sync.ledgerFinish(undefined, c.accountId, c.id, CREATE_PAYMENT, keys, 'failed');
        // Refused for what every item shares (a closed bank account): all of them, in one go.
        // Else the whole batch was refused for one item or a few: halve until each bad one stands alone.
        if (items.length === 1 || err.everyItem) return this.fail(round, items.map((i) => i.rec), err.message);
        const half = Math.ceil(items.length / 2);
        await this.batch(round, items.slice(0, half));
        await this.batch(round, items.slice(half));
        return;
      }
      return this.failure(round, items.map((i) => i.rec), err, batchMethod, { op: CREATE_PAYMENT, keys });
    }
    this.passed(round, batchMethod);
    // Per item: a remote id is synced; an item's own failure counts for that record only.
    const ok = items.flatMap((item, n) => (typeof results[n] === 'string' ? [{ rec: item.rec, remoteId: results[n] as string }] : []));
    await this.mapped(round, ok);
    for (const [n, item] of items.entries()) {
      const r = results[n];
      if (typeof r === 'string') continue;
      await this.failure(round, [item.rec], r, batchMethod, { op: CREATE_PAYMENT, keys: [item.data.id] });
    }
  }

  /** Payments now known in the target: mapping, ledger and record in one go, then their events. */
  private async mapped(round: Round, hits: { rec: ClaimedRecord; remoteId: string }[]): Promise<void> {
    if (hits.length === 0) return;
    const { c } = round;
    // Mapping, ledger, records and their events in one transaction of four statements.
    await this.synced(round, hits, undefined, undefined, async (m) => {
      await this.sync.mapMany(m, c.accountId, c.id, KIND.payment, hits.map((h) => ({ localId: h.rec.entityId, remoteId: h.remoteId })));
      await this.sync.ledgerFinish(m, c.accountId, c.id, CREATE_PAYMENT, hits.map((h) => h.rec.entityId), 'done', hits.map((h) => h.remoteId));
    });
  }

  // --- removals -------------------------------------------------------------------------------

  private async removal(round: Round, rec: ClaimedRecord): Promise<void> {
    const { c, connector } = round;
    let mapping = (await this.sync.mappings(c.accountId, c.id, KIND.payment, [rec.entityId])).get(rec.entityId);
    try {
      if (!mapping && connector.findPayments && (await this.sync.ledger(c.accountId, c.id, CREATE_PAYMENT, [rec.entityId])).get(rec.entityId) === 'sending') {
        // Its create may have gone through: find it so that it can be removed.
        const p = (await this.replicas.payments(c.accountId, [rec.entityId])).get(rec.entityId);
        const data = p ? this.paymentData(p, await this.paymentLinks(c, [p.interactionId])) : null;
        if (p && data) {
          const found = await connector.findPayments([data]);
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
    if (!connector.removePayments || !connector.removeMethod) return this.notApplicable(round, [rec], `${c.target} keeps payments once sent (no removal)`);
    const removeMethod = connector.removeMethod;
    if (!this.gate(round, removeMethod)) return this.later(round, [rec], this.limiter.waitMs(this.key(c, removeMethod)));
    await this.sync.ledgerSending(c.accountId, c.id, REMOVE_PAYMENT, [rec.entityId]);
    try {
      // Removing twice is harmless (the connector treats "already gone" as done), so no look-up first.
      await connector.removePayments([mapping.remoteId]);
    } catch (err) {
      return this.failure(round, [rec], err, removeMethod, { op: REMOVE_PAYMENT, keys: [rec.entityId] });
    }
    this.passed(round, removeMethod);
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

  /**
   * Whether the round must start nothing new: it stopped (the target is down, the connection
   * paused), the worker is shutting down, or half its lease is gone (nothing renews a lease, and once it runs out another
   * replica may claim the same records and send them while this one still does), or the
   * connection was deleted or replaced since the round began (a DELETE clears the leases, and
   * the connector this round holds has the old token and settings). Checked against the
   * database every twentieth of the lease. What is left goes back to the queue, due at once.
   */
  private async yields(round: Round): Promise<boolean> {
    // A shutdown (SIGTERM) too: a round went on for up to half its lease (60 s), past the pod's
    // grace period, and was killed mid-call, its records leased for another 120 s.
    if (round.stopped || this.stopped || Date.now() >= round.deadline) return true;
    if (Date.now() - round.checkedAt < this.config.FINANCE_LEASE_MS / 20) return false;
    round.checkedAt = Date.now();
    const now = await this.connections.get(round.c.accountId, round.c.target);
    if (now && now.id === round.c.id && now.connected && now.updatedAt.getTime() === round.c.updatedAt.getTime()) return false;
    round.deadline = 0;
    return true;
  }

  /** Whether a call of `method` may go out now (the limiter); a refusal marks the round blocked. */
  private gate(round: Round, method: string): boolean {
    const key = this.key(round.c, method);
    if (this.limiter.take(key)) {
      round.taken.add(key);
      return true;
    }
    round.blocked = true;
    return false;
  }

  /** A call of `method` went through: the method is open again. */
  private passed(round: Round, method: string): void {
    this.limiter.ok(this.key(round.c, method));
    round.sent = true;
  }

  /** Records synced, with their events, in one transaction (`also`: what goes in it first). */
  private async synced(
    round: Round,
    done: { rec: ClaimedRecord; remoteId: string | null }[],
    syncedHash?: string,
    note?: string,
    also?: (m: EntityManager) => Promise<void>,
  ): Promise<void> {
    if (done.length === 0) return;
    const { c } = round;
    await this.commands.run(c.accountId, async (t) => {
      await also?.(t.manager);
      await this.sync.finishSynced(t.manager, c.accountId, done, { syncedHash, lastError: note ?? null });
      await t.emitMany(
        FinanceRecordSynced,
        done.map(({ rec, remoteId }) => ({
          aggregateId: rec.entityId,
          data: { target: c.target, entityType: rec.entityType, entityId: rec.entityId, remoteId, attempts: rec.attempts, lastError: note ?? null },
        })),
      );
    });
    for (const { rec } of done) round.open.delete(rec.id);
  }

  /**
   * Not for this target (the connector's `applies`): synced with no remote id and the reason as
   * `lastError`, so it shows why nothing is there. A later change queues it again.
   */
  private notApplicable(round: Round, recs: ClaimedRecord[], reason: string): Promise<void> {
    return this.synced(round, recs.map((rec) => ({ rec, remoteId: null })), undefined, `not applicable: ${reason}`);
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

  /**
   * Waits for `dep` (null: for anything that syncs). Parked first, then checked again: a
   * dependency mapped, or found not applicable, meanwhile (by another replica) releases it at
   * once, so none waits forever.
   */
  private async park(round: Round, rec: ClaimedRecord, dep: Dependency | null): Promise<void> {
    const { c } = round;
    const waitingFor = dep ? `${dep.kind}:${dep.key}` : null;
    await this.sync.finish(undefined, c.accountId, rec, { state: 'parked', waitingFor, lastError: dep ? `waiting for ${dep.kind} ${dep.key}` : undefined });
    round.open.delete(rec.id);
    if (!dep) return;
    // Mapped meanwhile, or found not applicable meanwhile (then it goes without it, see `missing`):
    // that replica's release may have run before this record was parked.
    const type = ENTITY_OF_KIND.get(dep.kind);
    if ((await this.remoteOf(c, dep.kind, dep.key)) || (type && (await this.sync.isNotApplicable(c.accountId, c.id, type, dep.key)))) {
      await this.sync.releaseParked(c.accountId, c.id, [waitingFor!]);
    }
  }

  /**
   * A payment whose interaction has a document attached that the read model has no row of yet:
   * whether it is the invoice, and so what the payment depends on, is unknown. It waits for
   * `document:<id>`, released when the document's event writes its row or the document is
   * detached (`releaseParkedOfAccount`), or when its record syncs. Checked again after parking
   * under the account's queue lock (held shared by those events), so no wake-up is lost.
   */
  private async parkForDocument(round: Round, rec: ClaimedRecord, interactionId: string, documentId: string): Promise<void> {
    const { c } = round;
    const waitingFor = `${KIND.document}:${documentId}`;
    const lastError = `waiting for document ${documentId}: attached to its interaction but not in the document read model yet (whether it is an invoice is unknown)`;
    await this.sync.finish(undefined, c.accountId, rec, { state: 'parked', waitingFor, lastError });
    round.open.delete(rec.id);
    const still = await this.ds.transaction(async (m) => {
      await this.sync.lockAccountQueue(m, c.accountId);
      return (await this.replicas.unknownDocumentsOf(c.accountId, interactionId, m)).includes(documentId);
    });
    if (!still) await this.sync.releaseParked(c.accountId, c.id, [waitingFor]);
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
    // The call let through on `method` got no answer of its own (a look-up under another method failed, or no call was made).
    if (limiterKey !== this.key(c, method)) this.limiter.release(this.key(c, method));
    if (!(err instanceof ConnectorError)) {
      this.logger.error(`connection ${c.id}: ${(err as Error).message}`, (err as Error).stack);
      return this.retry(round, recs, `internal error: ${(err as Error).message}`);
    }
    if (err.failure !== 'rate_limited') {
      this.limiter.ok(limiterKey);
      // The target answered: whatever this is, the connection is not held back by 429s.
      round.sent = true;
    }
    const notApplied = err.failure !== 'outcome_unknown';
    if (sent && notApplied) await this.sync.ledgerFinish(undefined, c.accountId, c.id, sent.op, sent.keys, 'failed');
    switch (err.failure) {
      case 'rate_limited':
        round.blocked = true;
        this.limiter.limited(limiterKey, err.retryAfterMs);
        return this.later(round, recs, this.limiter.waitMs(limiterKey), err.message);
      case 'unavailable':
        round.stopped = true;
        return this.later(round, recs, this.config.FINANCE_UNAVAILABLE_RETRY_MS, err.message);
      case 'unauthorized':
      case 'payment_required':
      case 'settings_refused':
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
