import {
  CompressionTypes,
  Kafka,
  logLevel,
  Partitioners,
  type PartitionMetadata,
  type Admin,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { topicConfig } from '@papka/contracts';
import type {
  BatchHandler,
  EventBus,
  IncomingRecord,
  OutgoingRecord,
  PartitionOffset,
  PublishOutcome,
  ReadUntilOptions,
  SubscribeOptions,
  Subscription,
  SubscriptionState,
} from './event-bus';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  partitions?: number;
  /**
   * Upper bound of one produce request's records, in bytes before compression. Below the
   * broker's `message.max.bytes` (1 MiB by default), so a batch is never refused for its size.
   */
  maxRequestBytes?: number;
  log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra?: Record<string, unknown>) => void;
}

const toLevel = (level: logLevel): 'error' | 'warn' | 'info' | 'debug' =>
  level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

const ENSURE_TOPICS_ATTEMPTS = 8;
const TRANSIENT_TOPIC_ERRORS = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'TOPIC_ALREADY_EXISTS',
  'NOT_CONTROLLER',
  'REQUEST_TIMED_OUT',
]);

/** A topic another client is creating right now, or a broker still electing its leaders. */
function isRetriableTopicError(err: unknown, depth = 0): boolean {
  const e = err as { type?: string; retriable?: boolean; errors?: unknown[]; cause?: unknown };
  if (e?.type && TRANSIENT_TOPIC_ERRORS.has(e.type)) return true;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return e.errors.every((inner) => isRetriableTopicError(inner, depth + 1));
  // kafkajs wraps the broker's answer once its own retries are spent ("KafkaJSNonRetriableError, caused by ...").
  if (e?.cause && depth < 4) return isRetriableTopicError(e.cause, depth + 1);
  return e?.retriable === true;
}

/** How long a topic just created may take until its leaders serve it. */
const TOPIC_SERVED_MS = 30_000;

/**
 * Waits until every partition of a topic just created answers ListOffsets. Until then the
 * broker says "not the leader for that topic-partition", or sends an answer without the
 * partition, on which kafkajs throws a TypeError (both seen on a fresh KRaft broker): any error
 * is taken as "not yet", up to {@link TOPIC_SERVED_MS}.
 */
async function servedByItsLeaders(admin: Admin, topic: string): Promise<void> {
  const until = Date.now() + TOPIC_SERVED_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.fetchTopicOffsets(topic);
      return;
    } catch (err) {
      if (Date.now() >= until) throw err;
      await sleep(Math.min(50 * 2 ** attempt, 1_000));
    }
  }
}

/** Errors that say "this record (or batch) is too big or malformed for the broker", never transient. */
const RECORD_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/** The broker error type behind a kafkajs error (they nest: retries, aggregates, causes). */
function brokerErrorType(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  const e = err as { type?: string; cause?: unknown; originalError?: unknown; errors?: unknown[] };
  if (e.type && RECORD_ERRORS.has(e.type)) return e.type;
  for (const inner of [e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const t = brokerErrorType(inner, depth + 1);
    if (t) return t;
  }
  return e.type;
}

/** A produce request of at least this many bytes (before compression) goes gzipped; a smaller one as it is. */
const COMPRESS_FROM_BYTES = 16 * 1024;

/** A fetched Kafka message as the bus hands it to a handler. */
const incomingOf = (topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): IncomingRecord => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key ? message.key.toString('utf8') : null,
  value: message.value,
  headers: decodeHeaders(message.headers),
  heartbeat,
});

/** The longest {@link KafkaEventBus.ping} takes: below the readiness probes' 3 s timeout. */
export const PING_TIMEOUT_MS = 1_000;

/** The first wait before a consumer that kafkajs stopped for good is started again; it doubles up to the next. */
export const CONSUMER_RESTART_MS = 1_000;
const CONSUMER_RESTART_MAX_MS = 30_000;

const recordBytes = (r: OutgoingRecord) =>
  Buffer.byteLength(r.value) + Buffer.byteLength(r.key) + Object.entries(r.headers ?? {}).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0) + 64;

export class KafkaEventBus implements EventBus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private producerConnecting: Promise<Producer> | null = null;
  private admin: Admin | null = null;
  private adminConnecting: Promise<Admin> | null = null;
  private pinging: Promise<boolean> | null = null;
  /** Every kafkajs consumer open now (subscriptions' and bounded reads'), disconnected on close. */
  private readonly consumers = new Set<Consumer>();
  /** Each open subscription's close: it drains the runs in flight first (see subscribe). */
  private readonly subscriptions = new Set<() => Promise<void>>();
  private readonly states = new Set<SubscriptionState>();
  private readonly partitionsOf = new Map<string, PartitionMetadata[]>();
  /** The producer's own (Java-compatible murmur2) partitioner: keys land where any Kafka client puts them. */
  private readonly partitioner = Partitioners.DefaultPartitioner();

  constructor(private readonly options: KafkaBusOptions) {
    const log = options.log;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { initialRetryTime: 200, retries: 4, maxRetryTime: 3_000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...extra } = entry;
          log?.(toLevel(level), `kafkajs: ${message}`, extra);
        },
    });
  }

  async publish(records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.getProducer();
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
    try {
      await producer.sendBatch({
        acks: -1,
        // As the relay's sends: a retry or DLQ copy of an event the relay published gzipped must
        // fit the broker's size limit just as the original did.
        compression: records.reduce((n, r) => n + recordBytes(r), 0) >= COMPRESS_FROM_BYTES ? CompressionTypes.GZIP : CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, rs]) => ({
          topic,
          messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
        })),
      });
    } catch (err) {
      // A producer that failed (broker gone, fenced producer id) is replaced, so the next
      // attempt starts clean once the broker is back.
      this.producer = null;
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async publishEach(records: OutgoingRecord[]): Promise<PublishOutcome[]> {
    const outcomes: PublishOutcome[] = records.map(() => ({ ok: false, permanent: false, error: new Error('not sent') }));
    if (records.length === 0) return outcomes;
    let producer: Producer;
    let groups: Map<string, number[]>;
    try {
      producer = await this.getProducer();
      groups = await this.byPartition(records);
    } catch (err) {
      return records.map(() => ({ ok: false, permanent: false, error: err as Error }));
    }
    // One request per partition at a time: a produce request for one partition is stored
    // whole or not at all, so every outcome is exact and nothing already stored goes out twice.
    // Partitions go in parallel; within one, a failure stops the rest (keeps per-key order).
    let producerFailed = false;
    await Promise.all(
      [...groups].map(async ([slot, indexes]) => {
        const [topic, partition] = [slot.slice(0, slot.lastIndexOf('#')), Number(slot.slice(slot.lastIndexOf('#') + 1))];
        const pending = this.chunks(indexes.map((i) => ({ i, r: records[i]! })));
        while (pending.length > 0) {
          const chunk = pending.shift()!;
          try {
            await producer.send({
              topic,
              acks: -1,
              // A few small events gain little from gzip and cost its CPU on every send.
              compression: chunk.reduce((n, { r }) => n + recordBytes(r), 0) >= COMPRESS_FROM_BYTES ? CompressionTypes.GZIP : CompressionTypes.None,
              messages: chunk.map(({ r }) => ({ key: r.key, value: r.value, headers: r.headers, partition })),
            });
            for (const { i } of chunk) outcomes[i] = { ok: true };
          } catch (err) {
            const type = brokerErrorType(err);
            if (type && RECORD_ERRORS.has(type)) {
              if (chunk.length > 1) {
                // Find the record the broker refuses: halve, and try again at once.
                const half = Math.ceil(chunk.length / 2);
                pending.unshift(chunk.slice(0, half), chunk.slice(half));
                continue;
              }
              outcomes[chunk[0]!.i] = { ok: false, permanent: true, error: err as Error };
              continue;
            }
            producerFailed = true;
            for (const { i } of [chunk, ...pending].flat()) outcomes[i] = { ok: false, permanent: false, error: err as Error };
            this.partitionsOf.delete(topic);
            return;
          }
        }
      }),
    );
    if (producerFailed) await this.dropProducer(producer);
    return outcomes;
  }

  /** Record indexes grouped by `topic#partition`, in their order. */
  private async byPartition(records: OutgoingRecord[]): Promise<Map<string, number[]>> {
    const groups = new Map<string, number[]>();
    for (const [i, r] of records.entries()) {
      const partitionMetadata = await this.partitionMetadata(r.topic);
      const partition = this.partitioner({ topic: r.topic, partitionMetadata, message: { key: r.key, value: null } });
      const slot = `${r.topic}#${partition}`;
      groups.set(slot, [...(groups.get(slot) ?? []), i]);
    }
    return groups;
  }

  private async partitionMetadata(topic: string): Promise<PartitionMetadata[]> {
    const known = this.partitionsOf.get(topic);
    if (known) return known;
    const admin = await this.getAdmin();
    let meta;
    try {
      meta = await admin.fetchTopicMetadata({ topics: [topic] });
    } catch {
      await this.ensureTopics([topic]);
      meta = await admin.fetchTopicMetadata({ topics: [topic] });
    }
    const partitions = meta.topics[0]?.partitions ?? [];
    if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions yet`);
    this.partitionsOf.set(topic, partitions);
    return partitions;
  }

  /** Consecutive runs of records under maxRequestBytes (a record larger than that goes alone). */
  private chunks<T extends { r: OutgoingRecord }>(items: T[]): T[][] {
    const max = this.options.maxRequestBytes ?? 512 * 1024;
    const out: T[][] = [];
    let current: T[] = [];
    let bytes = 0;
    for (const item of items) {
      const size = recordBytes(item.r);
      if (current.length > 0 && bytes + size > max) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += size;
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  /** A producer that failed (broker gone, fenced producer id) is replaced, so the next attempt starts clean. */
  private async dropProducer(producer: Producer): Promise<void> {
    if (this.producer === producer) this.producer = null;
    await producer.disconnect().catch(() => undefined);
  }

  private async getProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.producerConnecting ??= (async () => {
      const p = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      try {
        await p.connect();
        this.producer = p;
        return p;
      } finally {
        this.producerConnecting = null;
      }
    })();
    return this.producerConnecting;
  }

  /**
   * Partitions go concurrently (`concurrency`), each one run of records at a time, in order
   * (kafkajs never hands two batches of one partition out at once). With a `batchHandler` a run
   * is up to `maxBatch` records and its offsets are committed once, after the handler reported
   * them done; with a plain `handler` every record is its own run, committed after it.
   *
   * kafkajs restarts a consumer that crashed on a retriable error. On a non-retriable one (the
   * broker refused the group: its protocols clash with a member's, the group is full, access was
   * denied) it stops that consumer for good, and `run()` had already resolved. Such a consumer is
   * started again here, as a new kafkajs consumer of the same group, after a back-off
   * ({@link CONSUMER_RESTART_MS}, doubling), for as long as the subscription is open; until it
   * has joined, {@link subscriptionStates} reports it stopped, with the broker's reason.
   */
  async subscribe({ groupId, topics, handler, batchHandler, maxBatch, concurrency }: SubscribeOptions): Promise<Subscription> {
    const state: SubscriptionState = { groupId, running: true, crashes: 0, lastError: null };
    this.states.add(state);
    // Closing drains first: a run in flight finishes and commits while the consumer still
    // runs (kafkajs silently skips a commitOffsets made once disconnect() has begun, so a record
    // handled during a shutdown was delivered again), and a run not begun yet is left alone,
    // neither handled nor committed, for the partition's next owner. Then the consumer leaves.
    let closing = false;
    const inFlight = new Set<Promise<void>>();
    let current: Consumer | null = null;
    let restartTimer: NodeJS.Timeout | null = null;
    let failedStarts = 0;
    const handleRun: BatchHandler =
      batchHandler ??
      (async (records, done) => {
        for (const record of records) {
          await handler(record);
          done(record);
        }
      });
    const runSize = batchHandler ? Math.max(1, maxBatch ?? 100) : 1;

    const restartLater = (why: string) => {
      if (closing) return;
      const delay = Math.min(CONSUMER_RESTART_MS * 2 ** failedStarts++, CONSUMER_RESTART_MAX_MS);
      this.options.log?.('error', `consumer ${groupId}: ${why} (${state.lastError}); starting it again in ${delay} ms`, { groupId });
      restartTimer = setTimeout(() => {
        restartTimer = null;
        if (closing) return;
        // A start that fails (the broker unreachable now) is tried again in turn.
        start().catch((err: Error) => {
          state.lastError = `${err.name}: ${err.message}`;
          const consumer = current;
          if (consumer) {
            this.consumers.delete(consumer);
            void consumer.disconnect().catch(() => undefined);
          }
          restartLater('its start failed');
        });
      }, delay);
      restartTimer.unref();
    };
    const start = async (): Promise<void> => {
      const consumer = this.kafka.consumer({
        groupId,
        sessionTimeout: 30_000,
        heartbeatInterval: 3_000,
        allowAutoTopicCreation: true,
        retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5_000 },
      });
      current = consumer;
      this.consumers.add(consumer);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        state.running = true;
        failedStarts = 0;
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        state.crashes++;
        state.lastError = `${payload.error.name}: ${payload.error.message}`;
        if (payload.restart) return; // kafkajs starts it again itself
        state.running = false;
        this.consumers.delete(consumer);
        restartLater('kafkajs stopped it for good');
      });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, concurrency ?? 1),
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const { topic, partition, messages } = batch;
          const work = (async () => {
            for (let start = 0; start < messages.length; ) {
              // A rebalance or a seek makes the rest of the batch stale: its next owner reads it.
              if (closing || !isRunning() || isStale()) return;
              const records = messages.slice(start, start + runSize).map((message) => incomingOf(topic, partition, message, heartbeat));
              let last: IncomingRecord | null = null;
              try {
                await handleRun(records, (record) => {
                  if (last === null || BigInt(record.offset) > BigInt(last.offset)) last = record;
                });
              } finally {
                const handled = last as IncomingRecord | null;
                if (handled) {
                  resolveOffset(handled.offset);
                  // Committed only once the handler reported the records done (their DB transactions committed).
                  await consumer.commitOffsets([{ topic, partition, offset: (BigInt(handled.offset) + 1n).toString() }]);
                }
              }
              if (last !== records[records.length - 1]) return; // the handler stopped early (closing)
              start += records.length;
              await heartbeat();
            }
          })();
          inFlight.add(work);
          try {
            await work;
          } catch (err) {
            throw restartable(err);
          } finally {
            inFlight.delete(work);
          }
        },
      });
    };

    const close = async () => {
      closing = true;
      if (restartTimer) clearTimeout(restartTimer);
      await Promise.allSettled([...inFlight]);
      this.subscriptions.delete(close);
      this.states.delete(state);
      const consumer = current;
      if (consumer) {
        this.consumers.delete(consumer);
        await consumer.disconnect();
      }
    };
    this.subscriptions.add(close);
    try {
      await start();
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }
    return { close };
  }

  /** Each open subscription's consumer: joined (or joining), or stopped by the broker and waiting to start again. */
  subscriptionStates(): SubscriptionState[] {
    return [...this.states].map((s) => ({ ...s }));
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    const admin = await this.getAdmin();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, offset: o.high })).sort((a, b) => a.partition - b.partition);
  }

  async readUntil({ topic, until, handler, groupId, timeoutMs = 60_000 }: ReadUntilOptions): Promise<void> {
    const admin = await this.getAdmin();
    const low = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.low)]));
    const committed = new Map<number, bigint>();
    if (groupId) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const p of offsets?.partitions ?? []) if (p.offset !== '-1') committed.set(p.partition, BigInt(p.offset));
    }
    const stopAt = new Map(until.map((u) => [u.partition, BigInt(u.offset)]));
    // Partitions with something to read: from the group's offset (or the earliest record) to `until`.
    const remaining = new Set(
      [...stopAt].filter(([p, end]) => {
        const earliest = low.get(p) ?? 0n;
        const start = committed.get(p) ?? earliest;
        return (start > earliest ? start : earliest) < end;
      }).map(([p]) => p),
    );
    if (remaining.size === 0) return;

    const consumer = this.kafka.consumer({
      groupId: groupId ?? `papka-read-${randomUUID()}`,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5_000 },
    });
    this.consumers.add(consumer);
    let settle: (err?: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    let stopped = false;
    const stop = (err?: Error) => {
      if (stopped) return;
      stopped = true;
      settle(err);
    };
    let timer: NodeJS.Timeout | undefined;
    const watchdog = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(new Error(`reading ${topic}: nothing read for ${timeoutMs} ms before its end offsets`)), timeoutMs);
    };
    watchdog();
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message, heartbeat }) => {
          const end = stopAt.get(partition);
          const offset = BigInt(message.offset);
          // Past the end (or a partition without one): neither handled nor committed.
          if (stopped || end === undefined || offset >= end || !remaining.has(partition)) return;
          watchdog();
          try {
            await handler(incomingOf(topic, partition, message, heartbeat));
            if (groupId) await consumer.commitOffsets([{ topic, partition, offset: (offset + 1n).toString() }]);
          } catch (err) {
            stop(err as Error);
            return;
          }
          if (offset + 1n >= end) {
            remaining.delete(partition);
            consumer.pause([{ topic, partitions: [partition] }]);
            if (remaining.size === 0) stop();
          }
        },
      });
      await done;
    } finally {
      clearTimeout(timer);
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
    }
  }

  /**
   * Creates the missing topics and waits until all have leaders that serve them. Services
   * starting side by side create the same topics at once: the broker then answers "unknown
   * topic" or "leader not available" for a moment, so those (retriable) errors are retried with
   * back-off. A new topic's leader is in the metadata before its broker serves the partition
   * ("not the leader for that topic-partition" from ListOffsets, seen on a fresh KRaft broker),
   * so a topic counts as there once its offsets can be read.
   */
  async ensureTopics(topics: string[]): Promise<void> {
    const admin = await this.getAdmin();
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((topic) => ({
              topic,
              numPartitions: this.options.partitions ?? 3,
              configEntries: Object.entries(topicConfig(topic)).map(([name, value]) => ({ name, value })),
            })),
          });
        }
        if (topics.length > 0) await admin.fetchTopicMetadata({ topics });
        break;
      } catch (err) {
        if (attempt >= ENSURE_TOPICS_ATTEMPTS || !isRetriableTopicError(err)) throw err;
        await sleep(Math.min(200 * 2 ** attempt, 3_000));
      }
    }
    // Whoever created them (this process or another one starting beside it), they must be served.
    await Promise.all(topics.map((topic) => servedByItsLeaders(admin, topic)));
  }

  /**
   * Answers within {@link PING_TIMEOUT_MS}: readiness waits for it, and a kubelet probe that
   * times out counts as failed, so a broker that accepts connections but never answers (kafkajs
   * waits up to its 10 s request timeout) took every pod out of rotation. A slow look is not
   * started again while it runs: probes share it.
   */
  ping(): Promise<boolean> {
    this.pinging ??= this.lookAtBroker().finally(() => {
      this.pinging = null;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      timer.unref();
    });
    return Promise.race([this.pinging, late]).finally(() => clearTimeout(timer));
  }

  private async lookAtBroker(): Promise<boolean> {
    try {
      const admin = await this.getAdmin();
      await admin.describeCluster();
      return true;
    } catch {
      const stale = this.admin;
      this.admin = null;
      await stale?.disconnect().catch(() => undefined);
      return false;
    }
  }

  /** One admin client, even when several callers ask at once (a second one would leak). */
  private async getAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.adminConnecting ??= (async () => {
      const admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 200 } });
      try {
        await admin.connect();
        this.admin = admin;
        return admin;
      } catch (err) {
        await admin.disconnect().catch(() => undefined);
        throw err;
      } finally {
        this.adminConnecting = null;
      }
    })();
    return this.adminConnecting;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((close) => close()));
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    this.subscriptions.clear();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.producer = null;
    this.admin = null;
  }
}

/**
 * What escapes a batch (a retry copy the broker refused, say): kafkajs retries the batch and, when
 * its retries run out, restarts the consumer, unless the error or its cause says `retriable:
 * false`. Then the consumer stops for good and nothing notices, so its partitions stay unread.
 * Such an error goes up as a plain one, without that cause; the batch is tried again later.
 */
export function restartable(err: unknown): unknown {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 10; depth++) {
    if ((e as { retriable?: unknown }).retriable === false) {
      const copy = new Error(`${(err as Error).name ?? 'Error'}: ${(err as Error).message}`);
      copy.stack = (err as Error).stack;
      return copy;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return err;
}
