import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { dlqTopic, isEventEnvelope, retryTopic, type EventEnvelope } from '@papka/contracts';
import { isDatabaseUnavailable } from '@papka/persistence';
import type { EventBus, IncomingRecord, Subscription } from '../bus/event-bus';
import { commandTx, type CommandTx } from '../outbox/commands';
import { runWithTrace } from '../trace';

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
  /** Delay before attempt n+1 (n starts at 1). */
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
}

/** Header names on `.retry` and `.dlq` records. */
export const FailureHeaders = {
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  attempts: 'x-attempts',
  error: 'x-error',
  consumerGroup: 'x-consumer-group',
  failedAt: 'x-failed-at',
  notBefore: 'x-not-before',
} as const;

/**
 * Consumes events for one consumer group with exactly-once effects on our database:
 * the event id goes into the inbox in the same transaction as the handler's effect, and the
 * offset is committed only after that commit (a replay is a no-op). A failing handler does
 * not block its partition: the event moves to `<topic>.retry` with a back-off and, after
 * the last attempt, to `<topic>.dlq` with where it came from and why it failed.
 * While PostgreSQL is unreachable nothing is committed or dead-lettered: the record is
 * simply delivered again later.
 */
export class EventConsumer {
  private readonly subs: Subscription[] = [];
  private readonly retry: RetryPolicy;

  constructor(private readonly o: EventConsumerOptions) {
    this.retry = o.retry ?? defaultRetryPolicy;
  }

  async start(): Promise<void> {
    await this.o.bus.ensureTopics(this.o.topics.flatMap((t) => [t, retryTopic(t), dlqTopic(t)]));
    this.subs.push(
      await this.o.bus.subscribe({
        groupId: this.o.groupId,
        topics: this.o.topics,
        handler: (r) => this.onMain(r),
      }),
      await this.o.bus.subscribe({
        groupId: `${this.o.groupId}.retry`,
        topics: this.o.topics.map(retryTopic),
        handler: (r) => this.onRetry(r),
      }),
    );
  }

  async stop(): Promise<void> {
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
      if (isDatabaseUnavailable(err)) throw err;
      await this.fail(record, envelope, record.topic, 1, err as Error);
    }
  }

  private async onRetry(record: IncomingRecord): Promise<void> {
    const h = record.headers;
    if (h[FailureHeaders.consumerGroup] !== this.o.groupId) return; // another group's retry
    const envelope = this.parse(record);
    const originalTopic = h[FailureHeaders.originalTopic] ?? record.topic.replace(/\.retry$/, '');
    const attempt = Number(h[FailureHeaders.attempts] ?? '1') + 1;
    if (!envelope) {
      await this.deadLetter(record, originalTopic, attempt - 1, new Error('record is not a valid event envelope'));
      return;
    }
    await this.waitUntil(Number(h[FailureHeaders.notBefore] ?? 0), record);
    try {
      await this.process(envelope, record, attempt);
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
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
    await runWithTrace(envelope.traceId || envelope.id, () =>
      this.o.dataSource.transaction(async (manager) => {
        const inserted: unknown[] = await manager.query(
          `INSERT INTO inbox (consumer_group, event_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING event_id`,
          [this.o.groupId, envelope.id],
        );
        if (inserted.length === 0) return; // handled before: a replay or a duplicate delivery
        await this.o.dispatch(envelope, {
          ...commandTx(manager, envelope.accountId, () => (emitted = true)),
          topic: record.headers[FailureHeaders.originalTopic] ?? record.topic,
          partition: record.partition,
          offset: record.offset,
          attempt,
          heartbeat: record.heartbeat,
        });
      }),
    );
    if (emitted) this.o.onEmitted?.();
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
    await this.o.bus.publish([
      {
        topic: retryTopic(originalTopic),
        key: record.key ?? envelope.aggregateId,
        value: record.value?.toString('utf8') ?? '',
        headers: {
          ...this.origin(record, originalTopic),
          [FailureHeaders.attempts]: String(attempt),
          [FailureHeaders.error]: err.message.slice(0, 1000),
          [FailureHeaders.consumerGroup]: this.o.groupId,
          [FailureHeaders.failedAt]: new Date().toISOString(),
          [FailureHeaders.notBefore]: String(Date.now() + delay),
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

  /** Sleeps until a retry is due, heartbeating so the group does not drop this member. */
  private async waitUntil(at: number, record: IncomingRecord): Promise<void> {
    for (let left = at - Date.now(); left > 0; left = at - Date.now()) {
      await sleep(Math.min(left, 2_000));
      await record.heartbeat();
    }
  }
}
