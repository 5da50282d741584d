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
  /**
   * How far each group that ever subscribed to a topic has read it, closed groups included
   * (by topic, then group id): a record below every entry is consumed by all of them. Records
   * a closed group has not read stay, for {@link pending}.
   */
  private readonly readUpTo = new Map<string, Map<string, number>>();
  /** Offsets committed by {@link readUntil} with a group, by `group\0topic`. */
  private readonly readOffsets = new Map<string, number>();
  /** While set, nothing is trimmed: services still starting have not subscribed yet (see {@link holdTrim}). */
  private trimHeld = false;

  constructor(private readonly retryDelayMs = 500) {}

  /** The one bus of this process, so services started side by side in embedded mode share it. */
  static instance(): InProcessEventBus {
    InProcessEventBus.sharedInstance ??= new InProcessEventBus();
    return InProcessEventBus.sharedInstance;
  }

  /**
   * One service's handle on {@link instance}: its `close()` ends that service's subscriptions
   * only. Services close one after another; closing the whole bus with the first one stopped
   * every other service's consumers while their relays still published.
   */
  static shared(): EventBus {
    return InProcessEventBus.instance().client();
  }

  client(): EventBus {
    const own = new Set<Subscription>();
    return {
      kind: this.kind,
      publish: (records) => this.publish(records),
      publishEach: (records) => this.publishEach(records),
      subscribe: async (options) => {
        const sub = await this.subscribe(options);
        own.add(sub);
        return sub;
      },
      endOffsets: (topic) => this.endOffsets(topic),
      readUntil: (options) => this.readUntil(options),
      ensureTopics: (topics) => this.ensureTopics(topics),
      ping: () => this.ping(),
      subscriptionStates: () => this.subscriptionStates(),
      close: async () => {
        await Promise.all([...own].map((sub) => sub.close()));
        own.clear();
      },
    };
  }

  /**
   * Records some group that subscribed to their topic has not read yet (published but not
   * consumed, and retry copies waiting until due), in order per topic. Embedded mode saves them
   * when it stops and {@link restore}s them when it starts, so a stop loses none of them.
   */
  pending(): OutgoingRecord[] {
    const out: OutgoingRecord[] = [];
    for (const [topic, readers] of this.readUpTo) {
      const log = this.log(topic);
      const from = Math.max(Math.min(...readers.values()), log.base);
      out.push(...log.records.slice(from - log.base));
    }
    // Dead letters: no group reads a `.dlq` topic, and they wait for an operator, so all of them
    // (they were dropped at every stop, and never replayable).
    for (const [topic, log] of this.logs) if (topic.endsWith('.dlq') && !this.readUpTo.has(topic)) out.push(...log.records);
    return out;
  }

  /**
   * Keeps every record until {@link releaseTrim}: embedded mode starts its services one after
   * another, and a group that subscribes later starts at the log's base, so records the first
   * services consumed (more than the trim's 1,000, as a re-announce or the events restored at a
   * start can be) were gone before the later services read them.
   */
  holdTrim(): void {
    this.trimHeld = true;
  }

  /** Every service has subscribed: trims as usual again. */
  releaseTrim(): void {
    this.trimHeld = false;
    for (const topic of this.readUpTo.keys()) this.trim(topic);
  }

  /**
   * Puts records saved by {@link pending} back, before anything subscribes: every group that
   * subscribes reads them. One that had read a record already gets it again, and its inbox
   * drops it, as after a Kafka redelivery.
   */
  restore(records: OutgoingRecord[]): void {
    for (const r of records) this.log(r.topic).records.push(r);
  }

  private readTo(group: Group, topic: string, offset: number): void {
    group.offsets.set(topic, offset);
    let readers = this.readUpTo.get(topic);
    if (!readers) this.readUpTo.set(topic, (readers = new Map()));
    // Two live subscriptions of one group id: the one further behind counts.
    const others = [...this.groups].filter((g) => g !== group && g.groupId === group.groupId && g.offsets.has(topic));
    readers.set(group.groupId, Math.min(offset, ...others.map((g) => g.offsets.get(topic)!)));
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
    this.groups.add(group);
    for (const t of topics) this.readTo(group, t, this.log(t).base);
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
          this.readTo(group, topic, next);
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

  /** Drops records every group that subscribed to the topic has consumed, so memory stays bounded. */
  private trim(topic: string): void {
    if (this.trimHeld) return;
    const log = this.log(topic);
    const readers = this.readUpTo.get(topic);
    const min = readers ? Math.min(...readers.values()) : Infinity;
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
