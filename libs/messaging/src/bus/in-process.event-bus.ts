import { setTimeout as sleep } from 'node:timers/promises';
import type {
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

interface TopicLog {
  /** Offset of records[0]; records before it were consumed by every group and dropped. */
  base: number;
  records: OutgoingRecord[];
}

interface Group {
  groupId: string;
  topics: string[];
  handler: SubscribeOptions['handler'];
  batchHandler: SubscribeOptions['batchHandler'];
  maxBatch: number;
  offsets: Map<string, number>;
  closed: boolean;
  wake: (() => void) | null;
}

/**
 * In-process event bus for the embedded mode: one ordered log per topic, consumer groups
 * with their own offsets, redelivery after a failed handler. Same contract as Kafka, one
 * partition per topic, nothing survives a restart (the outbox table does).
 */
export class InProcessEventBus implements EventBus {
  readonly kind = 'in-process' as const;
  private static sharedInstance: InProcessEventBus | null = null;
  private readonly logs = new Map<string, TopicLog>();
  private readonly groups = new Set<Group>();
  /** Offsets committed by {@link readUntil} with a group, by `group\0topic`. */
  private readonly readOffsets = new Map<string, number>();

  constructor(private readonly retryDelayMs = 500) {}

  /** The one bus of this process, so services started side by side in embedded mode share it. */
  static shared(): InProcessEventBus {
    InProcessEventBus.sharedInstance ??= new InProcessEventBus();
    return InProcessEventBus.sharedInstance;
  }

  private log(topic: string): TopicLog {
    let log = this.logs.get(topic);
    if (!log) {
      log = { base: 0, records: [] };
      this.logs.set(topic, log);
    }
    return log;
  }

  async publish(records: OutgoingRecord[]): Promise<void> {
    for (const r of records) this.log(r.topic).records.push(r);
    for (const g of this.groups) g.wake?.();
  }

  async publishEach(records: OutgoingRecord[]): Promise<PublishOutcome[]> {
    await this.publish(records);
    return records.map(() => ({ ok: true }));
  }

  async subscribe({ groupId, topics, handler, batchHandler, maxBatch, concurrency }: SubscribeOptions): Promise<Subscription> {
    // One partition per topic here: concurrent partitions means a pump per topic.
    if ((concurrency ?? 1) > 1 && topics.length > 1) {
      const subs = await Promise.all(topics.map((t) => this.subscribe({ groupId, topics: [t], handler, batchHandler, maxBatch })));
      return { close: async () => void (await Promise.all(subs.map((s) => s.close()))) };
    }
    const group: Group = {
      groupId,
      topics,
      handler,
      batchHandler,
      maxBatch: Math.max(1, maxBatch ?? 100),
      offsets: new Map(),
      closed: false,
      wake: null,
    };
    for (const t of topics) group.offsets.set(t, this.log(t).base);
    this.groups.add(group);
    void this.pump(group);
    return {
      close: async () => {
        group.closed = true;
        group.wake?.();
        this.groups.delete(group);
      },
    };
  }

  private async pump(group: Group): Promise<void> {
    while (!group.closed) {
      let delivered = false;
      for (const topic of group.topics) {
        const log = this.log(topic);
        const offset = group.offsets.get(topic) ?? log.base;
        const recs = log.records.slice(offset - log.base, offset - log.base + (group.batchHandler ? group.maxBatch : 1));
        if (recs.length === 0) continue;
        delivered = true;
        const incoming = recs.map(
          (rec, i): IncomingRecord => ({
            topic,
            partition: 0,
            offset: String(offset + i),
            key: rec.key,
            value: Buffer.from(rec.value, 'utf8'),
            headers: { ...(rec.headers ?? {}) },
            heartbeat: async () => undefined,
          }),
        );
        // Records reported done are committed even when the handler throws afterwards.
        let next = offset;
        const done = (r: IncomingRecord) => (next = Math.max(next, Number(r.offset) + 1));
        try {
          if (group.batchHandler) await group.batchHandler(incoming, done);
          else {
            await group.handler(incoming[0]!);
            done(incoming[0]!);
          }
        } catch {
          await sleep(this.retryDelayMs);
        } finally {
          group.offsets.set(topic, next);
          this.trim(topic);
        }
      }
      if (!delivered && !group.closed) {
        await new Promise<void>((resolve) => {
          group.wake = resolve;
        });
        group.wake = null;
      }
    }
  }

  /** Drops records every subscribed group has consumed, so memory stays bounded. */
  private trim(topic: string): void {
    const log = this.log(topic);
    let min = Infinity;
    for (const g of this.groups) {
      const o = g.offsets.get(topic);
      if (o !== undefined) min = Math.min(min, o);
    }
    const drop = Math.min(min, log.base + log.records.length) - log.base;
    if (drop > 1000) {
      log.records.splice(0, drop);
      log.base += drop;
    }
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    const log = this.log(topic);
    return [{ partition: 0, offset: String(log.base + log.records.length) }];
  }

  async readUntil({ topic, until, handler, groupId }: ReadUntilOptions): Promise<void> {
    const log = this.log(topic);
    const end = Number(until.find((u) => u.partition === 0)?.offset ?? 0);
    const key = `${groupId ?? ''}\0${topic}`;
    for (let offset = Math.max(groupId ? (this.readOffsets.get(key) ?? 0) : 0, log.base); offset < end; offset++) {
      const rec = log.records[offset - log.base];
      if (!rec) break;
      await handler({
        topic,
        partition: 0,
        offset: String(offset),
        key: rec.key,
        value: Buffer.from(rec.value, 'utf8'),
        headers: { ...(rec.headers ?? {}) },
        heartbeat: async () => undefined,
      });
      if (groupId) this.readOffsets.set(key, offset + 1);
    }
  }

  async ensureTopics(topics: string[]): Promise<void> {
    for (const t of topics) this.log(t);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  /** Nothing here stops a group but its own close: every open one runs. */
  subscriptionStates(): SubscriptionState[] {
    return [...this.groups].map((g) => ({ groupId: g.groupId, running: true, crashes: 0, lastError: null }));
  }

  async close(): Promise<void> {
    for (const g of this.groups) {
      g.closed = true;
      g.wake?.();
    }
    this.groups.clear();
  }
}
