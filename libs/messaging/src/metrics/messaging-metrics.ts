import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RETRY_TIERS_MS, retryTierTopic, retryTopic } from '@papka/contracts';
import type { OutboxBacklog } from '../outbox/outbox.relay';

/** One consumer group and the topics it reads. */
export interface ConsumerGroupTopics {
  group: string;
  topics: string[];
}

export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  /** End offset minus the group's committed offset (records not handled yet). */
  lag: number;
}

/** Where the consumer lag comes from: the broker (Kafka) or nothing to lag behind (in-process). */
export interface LagSource {
  lag(groups: ConsumerGroupTopics[]): Promise<PartitionLag[]>;
  close(): Promise<void>;
}

/**
 * The groups an EventConsumer of `groupId` on `topics` runs (event-consumer.ts): the main
 * group, one per retry tier and the legacy `.retry` one.
 */
export function consumerGroupsOf(groupId: string, topics: string[]): ConsumerGroupTopics[] {
  return [
    { group: groupId, topics },
    ...RETRY_TIERS_MS.map((tier) => ({ group: `${groupId}.retry.${tier / 1000}s`, topics: topics.map((t) => retryTierTopic(t, tier)) })),
    { group: `${groupId}.retry`, topics: topics.map(retryTopic) },
  ];
}

/** In-process bus: every record is handled as it is published, so the lag is 0 (one partition per topic). */
export class InProcessLagSource implements LagSource {
  async lag(groups: ConsumerGroupTopics[]): Promise<PartitionLag[]> {
    return groups.flatMap(({ group, topics }) => topics.map((topic) => ({ group, topic, partition: 0, lag: 0 })));
  }

  async close(): Promise<void> {
    // nothing held
  }
}

/**
 * Kafka: committed offsets (`fetchOffsets`) against end offsets (`fetchTopicOffsets`), with its
 * own admin client (a scrape never waits behind the bus's producer or consumers). A partition
 * the group never committed lags by everything from the earliest record kept (it reads from
 * the beginning). A topic that does not exist yet is left out.
 */
export class KafkaLagSource implements LagSource {
  private readonly kafka: Kafka;
  private admin: Promise<Admin> | null = null;

  constructor(o: { brokers: string[]; clientId: string }) {
    this.kafka = new Kafka({
      clientId: `${o.clientId}-metrics`,
      brokers: o.brokers,
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
  }

  private getAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        return admin;
      } catch (err) {
        this.admin = null;
        await admin.disconnect().catch(() => undefined);
        throw err;
      }
    })();
    return this.admin;
  }

  async lag(groups: ConsumerGroupTopics[]): Promise<PartitionLag[]> {
    let admin: Admin;
    try {
      admin = await this.getAdmin();
    } catch (err) {
      throw new Error(`kafka admin unavailable: ${(err as Error).message}`);
    }
    try {
      const topics = [...new Set(groups.flatMap((g) => g.topics))];
      const ends = new Map<string, Map<number, { low: bigint; high: bigint }>>();
      await Promise.all(
        topics.map(async (topic) => {
          try {
            const offsets = await admin.fetchTopicOffsets(topic);
            ends.set(topic, new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }])));
          } catch {
            // not created yet: nothing to lag behind
          }
        }),
      );
      const perGroup = await Promise.all(
        groups.map(async ({ group, topics: groupTopics }) => {
          const existing = groupTopics.filter((t) => ends.has(t));
          if (existing.length === 0) return [];
          const committed = await admin.fetchOffsets({ groupId: group, topics: existing });
          return committed.flatMap(({ topic, partitions }) =>
            partitions.flatMap(({ partition, offset }) => {
              const end = ends.get(topic)?.get(partition);
              if (!end) return [];
              const at = offset === '-1' ? end.low : BigInt(offset);
              const lag = end.high > at ? Number(end.high - at) : 0;
              return [{ group, topic, partition, lag }];
            }),
          );
        }),
      );
      return perGroup.flat();
    } catch (err) {
      // A broken connection: start over with a new admin on the next scrape.
      const stale = this.admin;
      this.admin = null;
      await stale?.then((a) => a.disconnect()).catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }
}

export interface MessagingMetricsOptions {
  /** The service's outbox (OutboxRelay); absent: no outbox gauges. */
  outbox?: { backlog(): Promise<OutboxBacklog> };
  lag: LagSource;
  /** Outbox rows older than this make `papka_outbox_stuck` 1 (and the health details `degraded`). */
  stuckAfterSeconds: number;
  /** How long one look at the broker's offsets is reused (default 5 s): scrapes stay cheap. */
  lagCacheMs?: number;
  /** A scrape does not wait longer than this for the broker's offsets (default 3 s): the last values stay. */
  lagTimeoutMs?: number;
  /** How long one look at the outbox is reused (default 1 s): the four outbox gauges share it. */
  outboxCacheMs?: number;
}

/** Default of OUTBOX_STUCK_SECONDS. */
export const DEFAULT_OUTBOX_STUCK_SECONDS = 60;

/**
 * Unpublished rows older than the threshold: the relay cannot publish (broker down, a
 * partition refusing). Reported (health details, `papka_outbox_stuck`), never failing
 * readiness: the outbox keeps the events and the service keeps serving.
 */
export const outboxStuck = (b: OutboxBacklog, stuckAfterSeconds: number): boolean => b.pending > 0 && b.oldestSeconds > stuckAfterSeconds;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Cached value of an async look-up, shared by concurrent callers. */
function cached<T>(ttlMs: number, load: () => Promise<T>): () => Promise<T> {
  let at = 0;
  let value: Promise<T> | null = null;
  return () => {
    if (!value || Date.now() - at >= ttlMs) {
      at = Date.now();
      const next = load();
      value = next;
      // A failed look is not kept: the next scrape asks again.
      next.catch(() => {
        if (value === next) value = null;
      });
    }
    return value;
  };
}

/**
 * Prometheus series of the event bus for one service (on its registry):
 * - `papka_outbox_pending`, `papka_outbox_oldest_age_seconds`, `papka_outbox_rejected`,
 *   `papka_outbox_stuck` (1 when the oldest row is older than the threshold);
 * - `papka_consumer_lag{group,topic,partition}`;
 * - `papka_events_retried_total{group,type}`, `papka_events_dead_lettered_total{group,topic}`.
 */
export class MessagingMetrics {
  private readonly consumers = new Map<string, ConsumerGroupTopics>();
  private readonly retriedCounter: Counter<'group' | 'type'>;
  private readonly deadLetteredCounter: Counter<'group' | 'topic'>;
  private readonly outboxLook: () => Promise<OutboxBacklog>;
  private readonly lagLook: () => Promise<PartitionLag[]>;

  constructor(
    registry: Registry,
    private readonly o: MessagingMetricsOptions,
  ) {
    this.outboxLook = cached(o.outboxCacheMs ?? 1_000, () => (o.outbox ? o.outbox.backlog() : Promise.reject(new Error('no outbox'))));
    this.lagLook = cached(o.lagCacheMs ?? 5_000, () =>
      this.consumers.size === 0 ? Promise.resolve([]) : withTimeout(o.lag.lag([...this.consumers.values()]), o.lagTimeoutMs ?? 3_000),
    );
    this.retriedCounter = new Counter({
      name: 'papka_events_retried_total',
      help: 'Events whose handler failed and that went to a retry tier (.retry.<n>s)',
      labelNames: ['group', 'type'],
      registers: [registry],
    });
    this.deadLetteredCounter = new Counter({
      name: 'papka_events_dead_lettered_total',
      help: 'Events sent to .dlq (attempts exhausted or not a valid envelope), by original topic',
      labelNames: ['group', 'topic'],
      registers: [registry],
    });
    if (o.outbox) {
      const outboxLookOrNull = () => this.outboxLook().catch(() => null);
      const outboxGauge = (name: string, help: string, value: (b: OutboxBacklog) => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          collect: async function (this: Gauge) {
            // The database down: the last value stays (readiness reports the outage).
            const backlog = await outboxLookOrNull();
            if (backlog) this.set(value(backlog));
          },
        });
      outboxGauge('papka_outbox_pending', 'Outbox rows not published yet (refused ones not counted)', (b) => b.pending);
      outboxGauge('papka_outbox_oldest_age_seconds', 'Age of the oldest unpublished outbox row (0 when none)', (b) => b.oldestSeconds);
      outboxGauge('papka_outbox_rejected', 'Outbox rows the broker refused for good (need an operator)', (b) => b.rejected);
      outboxGauge('papka_outbox_stuck', `1 when the oldest unpublished outbox row is older than ${o.stuckAfterSeconds} s (OUTBOX_STUCK_SECONDS)`, (b) =>
        this.isStuck(b) ? 1 : 0,
      );
    }
    const lagLookOrNull = () => this.lagLook().catch(() => null);
    new Gauge({
      name: 'papka_consumer_lag',
      help: "Records not handled yet per consumer group and partition (end offset minus the group's committed offset)",
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
      collect: async function (this: Gauge<'group' | 'topic' | 'partition'>) {
        const lags = await lagLookOrNull();
        if (!lags) return; // broker unreachable: the last values stay
        this.reset();
        for (const l of lags) this.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    });
  }

  /** Called by connectEventConsumer for each EventConsumer of the service. */
  registerConsumer(groupId: string, topics: string[]): void {
    for (const g of consumerGroupsOf(groupId, topics)) {
      const known = this.consumers.get(g.group);
      this.consumers.set(g.group, { group: g.group, topics: [...new Set([...(known?.topics ?? []), ...g.topics])] });
    }
  }

  retried(group: string, type: string): void {
    this.retriedCounter.inc({ group, type });
  }

  deadLettered(group: string, topic: string): void {
    this.deadLetteredCounter.inc({ group, topic });
  }

  isStuck(b: OutboxBacklog): boolean {
    return outboxStuck(b, this.o.stuckAfterSeconds);
  }

  close(): Promise<void> {
    return this.o.lag.close();
  }
}
