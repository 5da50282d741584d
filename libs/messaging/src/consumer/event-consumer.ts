import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import {
  companionTopics,
  dlqTopic,
  isEventEnvelope,
  RETRY_TIERS_MS,
  retryTierFor,
  retryTierTopic,
  retryTopic,
  type EventEnvelope,
} from '@papka/contracts';
import { isDatabaseUnavailable } from '@papka/persistence';
import type { EventBus, IncomingRecord, Subscription } from '../bus/event-bus';
import { commandTx, type CommandTx } from '../outbox/commands';
import { withConsumerSpan } from '../tracing';

/**
 * What a handler receives besides the envelope: the inbox transaction its effect must use
 * (`manager`, so effect and inbox row commit together) and `emit` for the events it causes
 * (published once that transaction has committed; `accountId` defaults to the envelope's).
 */
export interface EventContext extends CommandTx {
  topic: string;
  partition: number;
  offset: string;
  attempt: number;
  /** Call during a long handler (e.g. a render) so the consumer group keeps this member. */
  heartbeat: () => Promise<void>;
}

export type EventDispatcher = (envelope: EventEnvelope, ctx: EventContext) => Promise<void>;

export interface RetryPolicy {
  /** Total attempts, the first included, before the event goes to `.dlq`. */
  maxAttempts: number;
  /**
   * Delay before attempt n+1 (n starts at 1). Served by the retry tier of `RETRY_TIERS_MS`
   * (contracts) at least as long: a delay between two tiers is rounded up to the next one.
   */
  backoffMs: (attempt: number) => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  backoffMs: (n) => [1_000, 5_000, 30_000, 120_000][n - 1] ?? 300_000,
};

export interface EventConsumerOptions {
  bus: EventBus;
  dataSource: DataSource;
  groupId: string;
  topics: string[];
  dispatch: EventDispatcher;
  /** Events of other types on the same topics are skipped (and committed). */
  handles: (type: string) => boolean;
  retry?: RetryPolicy;
  /** Called after a handler's transaction that emitted events has committed (wakes the outbox relay). */
  onEmitted?: () => void;
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra?: Record<string, unknown>) => void;
  /** Partitions of the main topics handled at once (default {@link MAIN_CONCURRENCY}); each keeps its order. */
  concurrency?: number;
  /**
   * Records of one partition handed over at once (default 100): their offsets are committed
   * together, after their transactions.
   */
  maxBatch?: number;
  /** Records sharing one inbox transaction at most (default 50); see {@link EventConsumer}. */
  maxPerTransaction?: number;
}

/** Header names on retry and `.dlq` records. */
export const FailureHeaders = {
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  attempts: 'x-attempts',
  error: 'x-error',
  consumerGroup: 'x-consumer-group',
  failedAt: 'x-failed-at',
  /** When this hop through a retry tier is due (its enqueue time + the tier's delay). */
  notBefore: 'x-not-before',
  /** When the retry is due, if later than the hop's `x-not-before` (a back-off longer than the last tier). */
  dueAt: 'x-due-at',
} as const;

/** Partitions of one retry tier handled at once: a record waiting until it is due holds up only its partition. */
const RETRY_CONCURRENCY = 32;

/**
 * Partitions of the main topics handled at once. Each holds a database connection while its
 * transaction runs, so this stays well below a service's pool (10).
 */
export const MAIN_CONCURRENCY = 4;
/** A transaction of several records is committed after this long, so its effects are not held back. */
const TRANSACTION_MAX_MS = 250;

/** A handler failed at `index` of a shared transaction (rolled back whole). */
class RecordFailed extends Error {
  constructor(
    readonly index: number,
    readonly error: Error,
  ) {
    super(error.message);
  }
}

/** One record of a run on a main topic: applied in a transaction, skipped (a type not handled) or dead-lettered (not an envelope). */
type RunItem = { record: IncomingRecord; envelope: EventEnvelope; skip: boolean } | { record: IncomingRecord; envelope: null; skip: false };

/**
 * The retry consumer groups of consumer group `groupId` and the topics each reads: one per retry
 * tier (`<group>.retry.<n>s`, tierMs set) and the legacy `<group>.retry` (tierMs null).
 */
export function retryGroups(groupId: string, topics: string[]): { groupId: string; topics: string[]; tierMs: number | null }[] {
  return [
    ...RETRY_TIERS_MS.map((tier) => ({ groupId: `${groupId}.retry.${tier / 1000}s`, topics: topics.map((t) => retryTierTopic(t, tier)), tierMs: tier })),
    { groupId: `${groupId}.retry`, topics: topics.map(retryTopic), tierMs: null },
  ];
}

/** `papka.x.v1.retry.30s` or `papka.x.v1.retry` -> `papka.x.v1`. */
const withoutRetrySuffix = (topic: string) => topic.replace(/\.retry(\.\d+s)?$/, '');

/**
 * Consumes events for one consumer group with exactly-once effects on our database:
 * the event id goes into the inbox in the same transaction as the handler's effect, and the
 * offset is committed only after that commit (a replay is a no-op). A failing handler does
 * not block its partition: the event moves to the retry tier of its back-off,
 * `<topic>.retry.<n>s`, and after the last attempt to `<topic>.dlq` with where it came from
 * and why it failed. Each tier has its own subscription (a consumer handles one record of a
 * partition at a time), and in a tier every record waits the same delay, so none waits behind
 * a longer back-off. The legacy `<topic>.retry` is still drained (records of an older version).
 * While PostgreSQL is unreachable nothing is committed or dead-lettered: the record is
 * simply delivered again later.
 */
export class EventConsumer {
  private readonly subs: Subscription[] = [];
  /** Errors a record's heartbeat threw (see {@link heartbeatOf}). */
  private readonly heartbeatErrors = new WeakSet<object>();
  private readonly retry: RetryPolicy;
  /** Aborted by stop(): a retry waiting until it is due gives up (uncommitted, so delivered again later). */
  private stopping = new AbortController();

  constructor(private readonly o: EventConsumerOptions) {
    this.retry = o.retry ?? defaultRetryPolicy;
  }

  async start(): Promise<void> {
    const { bus, groupId, topics } = this.o;
    this.stopping = new AbortController();
    await bus.ensureTopics(topics.flatMap(companionTopics));
    const subscribing = [
      bus.subscribe({
        groupId,
        topics,
        handler: (r) => this.onMain(r),
        batchHandler: (records, done) => this.onMainBatch(records, done),
        maxBatch: this.o.maxBatch ?? 100,
        concurrency: this.o.concurrency ?? MAIN_CONCURRENCY,
      }),
      // Every tier, not only those of this policy: records written under another policy drain too.
      ...retryGroups(groupId, topics).map((g) =>
        bus.subscribe({ groupId: g.groupId, topics: g.topics, handler: (r) => this.onRetry(r, g.tierMs), concurrency: RETRY_CONCURRENCY }),
      ),
    ].map((p) => p.then((sub) => (this.subs.push(sub), sub)));
    const results = await Promise.allSettled(subscribing);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled(this.subs.map((s) => s.close()));
    this.subs.length = 0;
  }

  private async onMain(record: IncomingRecord): Promise<void> {
    const envelope = this.parse(record);
    if (!envelope) {
      await this.deadLetter(record, record.topic, 0, new Error('record is not a valid event envelope'));
      return;
    }
    if (!this.o.handles(envelope.type)) return;
    try {
      await this.process(envelope, record, 1);
    } catch (err) {
      if (this.mustStop(err)) throw err;
      await this.fail(record, envelope, record.topic, 1, err as Error);
    }
  }

  /**
   * A run of records of one main-topic partition, in order. Consecutive records share one
   * transaction (up to `maxPerTransaction` records or {@link TRANSACTION_MAX_MS}), each with
   * its inbox row, so a batch costs one commit instead of one per record. A handler that fails
   * rolls its transaction back whole: the records before it are applied again in a new
   * transaction (their handlers run again; nothing of the rolled-back attempt stays), and the
   * failing record goes to its retry tier or `.dlq` alone, exactly as if it had had its own
   * transaction, without running its handler a second time. A transaction that fails to commit
   * is replayed one record per transaction, so only the record that cannot commit is retried.
   * Stops between transactions once the consumer is stopping (the rest is left uncommitted).
   */
  private async onMainBatch(records: IncomingRecord[], done: (record: IncomingRecord) => void): Promise<void> {
    const items: RunItem[] = records.map((record) => {
      const envelope = this.parse(record);
      return envelope ? { record, envelope, skip: !this.o.handles(envelope.type) } : { record, envelope: null, skip: false };
    });
    const perTransaction = Math.max(1, this.o.maxPerTransaction ?? 50);
    /** Records the next transaction may take (1 after a failed commit, to find the record). */
    let limit = perTransaction;
    /** A handler's failure in a shared transaction (rolled back), kept so that handler does not run twice. */
    let failure = null as { index: number; err: Error } | null;
    for (let i = 0; i < items.length; ) {
      if (this.stopping.signal.aborted) return;
      const item = items[i]!;
      if (item.envelope === null) {
        await this.deadLetter(item.record, item.record.topic, 0, new Error('record is not a valid event envelope'));
        done(item.record);
        i++;
        continue;
      }
      if (item.skip) {
        done(item.record);
        i++;
        continue;
      }
      if (failure?.index === i) {
        await this.fail(item.record, item.envelope, item.record.topic, 1, failure.err);
        failure = null;
        done(item.record);
        i++;
        continue;
      }
      let taken = 0;
      try {
        // Before a known failure, only the records ahead of it.
        // (Within `limit` still: after a failed commit, one record per transaction finds it.)
        taken = await this.applyRun(items, i, failure ? Math.min(limit, failure.index - i) : limit);
      } catch (err) {
        if (this.mustStop(err)) throw err;
        if (err instanceof RecordFailed) {
          if (err.index === 0) {
            // First in its transaction: as if it had had its own.
            await this.fail(item.record, item.envelope, item.record.topic, 1, err.error);
            done(item.record);
            i++;
          } else {
            // Apply the records before it again without it, then send it on with this error.
            failure = { index: i + err.index, err: err.error };
          }
          continue;
        }
        // The commit itself failed (not a handler): one record per transaction finds the one.
        if (limit > 1) {
          limit = 1;
          continue;
        }
        await this.fail(item.record, item.envelope, item.record.topic, 1, err as Error);
        done(item.record);
        i++;
        limit = perTransaction;
        continue;
      }
      i += taken;
      done(items[i - 1]!.record);
      limit = perTransaction;
    }
  }

  /**
   * Applies up to `limit` records of `items` from `from` in one transaction, stopping before a
   * record that is not an envelope, after {@link TRANSACTION_MAX_MS}, or when the consumer is
   * stopping. Answers how many records it took (committed). A handler's failure rolls back the
   * whole transaction and throws {@link RecordFailed} with its index.
   */
  private async applyRun(items: RunItem[], from: number, limit: number): Promise<number> {
    let emitted = false;
    let taken = 0;
    const started = Date.now();
    await this.o.dataSource.transaction(async (manager) => {
      for (; taken < limit && from + taken < items.length; taken++) {
        const item = items[from + taken]!;
        if (item.envelope === null) break;
        if (taken > 0 && (Date.now() - started >= TRANSACTION_MAX_MS || this.stopping.signal.aborted)) break;
        if (item.skip) continue;
        try {
          await withConsumerSpan(item.record, this.o.groupId, item.envelope, () =>
            this.apply(manager, item.envelope!, item.record, 1, () => (emitted = true)),
          );
        } catch (err) {
          if (this.mustStop(err)) throw err;
          throw new RecordFailed(taken, err as Error);
        }
      }
    });
    if (emitted) this.o.onEmitted?.();
    return taken;
  }

  /** A record of a retry tier (`tierMs`) or of the legacy `.retry` topic (`null`). */
  private async onRetry(record: IncomingRecord, tierMs: number | null): Promise<void> {
    const h = record.headers;
    if (h[FailureHeaders.consumerGroup] !== this.o.groupId) return; // another group's retry
    const envelope = this.parse(record);
    const originalTopic = h[FailureHeaders.originalTopic] ?? withoutRetrySuffix(record.topic);
    const attempt = Number(h[FailureHeaders.attempts] ?? '1') + 1;
    if (!envelope) {
      await this.deadLetter(record, originalTopic, attempt - 1, new Error('record is not a valid event envelope'));
      return;
    }
    // No record of a tier waits longer than the tier's delay, whatever its header says (a skewed clock).
    const longest = Date.now() + (tierMs ?? RETRY_TIERS_MS[RETRY_TIERS_MS.length - 1]!);
    await this.waitUntil(Math.min(Number(h[FailureHeaders.notBefore] ?? 0), longest), record);
    const dueAt = Number(h[FailureHeaders.dueAt] ?? 0);
    if (dueAt > Date.now()) {
      // A back-off longer than the last tier: another hop, without spending an attempt.
      await this.enqueueRetry(record, record.key ?? envelope.aggregateId, originalTopic, h, dueAt - Date.now());
      return;
    }
    try {
      await this.process(envelope, record, attempt);
    } catch (err) {
      if (this.mustStop(err)) throw err;
      await this.fail(record, envelope, originalTopic, attempt, err as Error);
    }
  }

  private parse(record: IncomingRecord): EventEnvelope | null {
    try {
      const value: unknown = JSON.parse(record.value?.toString('utf8') ?? '');
      return isEventEnvelope(value) ? value : null;
    } catch {
      return null;
    }
  }

  private async process(envelope: EventEnvelope, record: IncomingRecord, attempt: number): Promise<void> {
    let emitted = false;
    await withConsumerSpan(record, this.o.groupId, envelope, () =>
      this.o.dataSource.transaction((manager) => this.apply(manager, envelope, record, attempt, () => (emitted = true))),
    );
    if (emitted) this.o.onEmitted?.();
  }

  /** The inbox row and the handler's effect, in `manager`'s transaction; a handled event id is a no-op. */
  private async apply(manager: EntityManager, envelope: EventEnvelope, record: IncomingRecord, attempt: number, onEmit: () => void): Promise<void> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO inbox (consumer_group, event_id) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [this.o.groupId, envelope.id],
    );
    if (inserted.length === 0) return; // handled before: a replay or a duplicate delivery
    await this.o.dispatch(envelope, {
      ...commandTx(manager, envelope.accountId, onEmit),
      topic: record.headers[FailureHeaders.originalTopic] ?? record.topic,
      partition: record.partition,
      offset: record.offset,
      attempt,
      heartbeat: this.heartbeatOf(record),
    });
  }

  /**
   * The record's heartbeat as handlers get it. What it throws (kafkajs: the group is rebalancing,
   * this member was fenced) is not the handler's failure: it stops the run uncommitted, as a
   * database outage does (see {@link mustStop}), so kafkajs rejoins the group and the records
   * are read again. Counted as a failure, each record of the run went to a retry tier with an
   * attempt spent, and a run of them could outlast the rebalance and get the member dropped.
   */
  private heartbeatOf(record: IncomingRecord): () => Promise<void> {
    return async () => {
      try {
        await record.heartbeat();
      } catch (err) {
        if (typeof err === 'object' && err !== null) this.heartbeatErrors.add(err);
        throw err;
      }
    };
  }

  /** An error that stops the run instead of failing its record: the database is down, or the group moved on (a heartbeat failed). */
  private mustStop(err: unknown): boolean {
    return isDatabaseUnavailable(err) || (typeof err === 'object' && err !== null && this.heartbeatErrors.has(err));
  }

  private async fail(record: IncomingRecord, envelope: EventEnvelope, originalTopic: string, attempt: number, err: Error) {
    if (attempt >= this.retry.maxAttempts) {
      await this.deadLetter(record, originalTopic, attempt, err);
      return;
    }
    const delay = this.retry.backoffMs(attempt);
    this.o.log?.('warn', 'event handler failed, will retry', {
      group: this.o.groupId,
      type: envelope.type,
      eventId: envelope.id,
      attempt,
      retryInMs: delay,
      err: err.message,
    });
    await this.enqueueRetry(
      record,
      record.key ?? envelope.aggregateId,
      originalTopic,
      {
        ...this.origin(record, originalTopic),
        [FailureHeaders.attempts]: String(attempt),
        [FailureHeaders.error]: err.message.slice(0, 1000),
        [FailureHeaders.consumerGroup]: this.o.groupId,
        [FailureHeaders.failedAt]: new Date().toISOString(),
      },
      delay,
    );
  }

  /**
   * Puts a record on the retry tier that serves `delayMs`. In a tier every record is due its
   * enqueue time + the tier's delay, so the tier's order is its due order.
   */
  private async enqueueRetry(
    record: IncomingRecord,
    key: string,
    originalTopic: string,
    headers: Record<string, string>,
    delayMs: number,
  ): Promise<void> {
    const tier = retryTierFor(delayMs);
    const now = Date.now();
    const kept = Object.fromEntries(
      Object.entries(headers).filter(([k]) => k !== FailureHeaders.notBefore && k !== FailureHeaders.dueAt),
    );
    await this.o.bus.publish([
      {
        topic: retryTierTopic(originalTopic, tier),
        key,
        value: record.value?.toString('utf8') ?? '',
        headers: {
          ...kept,
          [FailureHeaders.notBefore]: String(now + tier),
          ...(delayMs > tier ? { [FailureHeaders.dueAt]: String(now + delayMs) } : {}),
        },
      },
    ]);
  }

  private async deadLetter(record: IncomingRecord, originalTopic: string, attempts: number, err: Error): Promise<void> {
    this.o.log?.('error', 'event dead-lettered', {
      group: this.o.groupId,
      topic: originalTopic,
      attempts,
      err: err.message,
    });
    await this.o.bus.publish([
      {
        topic: dlqTopic(originalTopic),
        key: record.key ?? '',
        value: record.value?.toString('utf8') ?? '',
        headers: {
          ...this.origin(record, originalTopic),
          [FailureHeaders.attempts]: String(attempts),
          [FailureHeaders.error]: err.message.slice(0, 1000),
          [FailureHeaders.consumerGroup]: this.o.groupId,
          [FailureHeaders.failedAt]: new Date().toISOString(),
        },
      },
    ]);
  }

  /** Where the event first came from; kept unchanged through retries. */
  private origin(record: IncomingRecord, originalTopic: string): Record<string, string> {
    const h = record.headers;
    return {
      ...Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('x-'))),
      [FailureHeaders.originalTopic]: h[FailureHeaders.originalTopic] ?? originalTopic,
      [FailureHeaders.originalPartition]: h[FailureHeaders.originalPartition] ?? String(record.partition),
      [FailureHeaders.originalOffset]: h[FailureHeaders.originalOffset] ?? record.offset,
    };
  }

  /**
   * Sleeps until a retry is due, heartbeating so the group does not drop this member. Throws
   * when the consumer stops meanwhile, so a shutdown does not wait for the longest back-off.
   */
  private async waitUntil(at: number, record: IncomingRecord): Promise<void> {
    const { signal } = this.stopping;
    for (let left = at - Date.now(); left > 0; left = at - Date.now()) {
      await sleep(Math.min(left, 2_000), undefined, { signal });
      await record.heartbeat();
    }
  }
}
