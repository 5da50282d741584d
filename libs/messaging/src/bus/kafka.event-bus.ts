import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { topicConfig } from '@papka/contracts';
import type { EventBus, IncomingRecord, OutgoingRecord, SubscribeOptions, Subscription } from './event-bus';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  partitions?: number;
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
const TRANSIENT_TOPIC_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'TOPIC_ALREADY_EXISTS', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT']);

/** A topic another client is creating right now, or a broker still electing its leaders. */
function isRetriableTopicError(err: unknown): boolean {
  const e = err as { type?: string; retriable?: boolean; errors?: unknown[] };
  if (e?.type && TRANSIENT_TOPIC_ERRORS.has(e.type)) return true;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return e.errors.every(isRetriableTopicError);
  return e?.retriable === true;
}

export class KafkaEventBus implements EventBus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private producerConnecting: Promise<Producer> | null = null;
  private admin: Admin | null = null;
  private adminConnecting: Promise<Admin> | null = null;
  private readonly consumers = new Set<Consumer>();

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

  async subscribe({ groupId, topics, handler }: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: true,
      retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5_000 },
    });
    this.consumers.add(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message, heartbeat }) => {
        const record: IncomingRecord = {
          topic,
          partition,
          offset: message.offset,
          key: message.key ? message.key.toString('utf8') : null,
          value: message.value,
          headers: decodeHeaders(message.headers),
          heartbeat,
        };
        await handler(record);
        // Committed only after the handler (and its DB transaction) succeeded.
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
    return {
      close: async () => {
        this.consumers.delete(consumer);
        await consumer.disconnect();
      },
    };
  }

  /**
   * Creates the missing topics and waits until all have leaders. Services starting side by
   * side create the same topics at once: the broker then answers "unknown topic" or "leader not
   * available" for a moment, so those (retriable) errors are retried with back-off.
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
        return;
      } catch (err) {
        if (attempt >= ENSURE_TOPICS_ATTEMPTS || !isRetriableTopicError(err)) throw err;
        await sleep(Math.min(200 * 2 ** attempt, 3_000));
      }
    }
  }

  async ping(): Promise<boolean> {
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
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.producer = null;
    this.admin = null;
  }
}
