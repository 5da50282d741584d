/**
 * The event-bus port. Two adapters: Kafka (kafkajs) for the distributed setup and an
 * in-process one for the embedded mode. Nothing outside libs/messaging talks to kafkajs,
 * so another client (e.g. @confluentinc/kafka-javascript) can replace it here.
 */
export interface OutgoingRecord {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface IncomingRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Keeps group membership alive during a long handler. */
  heartbeat(): Promise<void>;
}

export type RecordHandler = (record: IncomingRecord) => Promise<void>;

/**
 * Handles a run of consecutive records of one partition, in their order. `done(record)` says
 * that record and every one before it in the run are handled for good (their effects
 * committed): the adapter may commit their offsets, even if the handler throws later.
 * Resolving means every record of the run is handled, unless the handler stopped early (the
 * consumer is stopping): the records after the last one reported done are then left
 * uncommitted, for this partition's next owner. Throwing leaves the records after the last
 * one reported done uncommitted; they are delivered again after a back-off.
 */
export type BatchHandler = (records: IncomingRecord[], done: (record: IncomingRecord) => void) => Promise<void>;

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /**
   * Handles one record. Resolving commits its offset; throwing leaves it uncommitted and the
   * record is delivered again after a back-off (the adapter never skips it).
   */
  handler: RecordHandler;
  /**
   * Handles records a run at a time (of at most `maxBatch`), when the adapter can: offsets are
   * then committed once per run instead of once per record. `handler` serves adapters that
   * cannot. Either way a partition's records are handled in order, one run at a time.
   */
  batchHandler?: BatchHandler;
  /** The longest run handed to `batchHandler` (default 100). */
  maxBatch?: number;
  /**
   * Partitions handled at once (default 1). Records of one partition are always handled one at
   * a time, in order; with more, a slow record (a retry waiting until it is due) holds up only
   * its own partition.
   */
  concurrency?: number;
}

/** A partition's offset: for {@link EventBus.endOffsets}, the offset the next record will get. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface ReadUntilOptions {
  topic: string;
  /** Where to stop, per partition (exclusive), typically `endOffsets(topic)` taken before. */
  until: PartitionOffset[];
  handler: RecordHandler;
  /**
   * Starts each partition at this group's committed offset and commits after each handled
   * record, so the next read goes on where this one stopped. Without it the read starts at the
   * earliest record and commits nothing (a listing).
   */
  groupId?: string;
  /** Gives up (rejects) after this long without a record read before reaching `until` (default 60 s). */
  timeoutMs?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

/** An open subscription's consumer, as health reports it. */
export interface SubscriptionState {
  groupId: string;
  /** False while the broker has stopped it (see `lastError`) and it waits to be started again. */
  running: boolean;
  /** Times the client's consumer crashed (restarted by the client itself, or by the adapter). */
  crashes: number;
  lastError: string | null;
}

/** What became of one record of {@link EventBus.publishEach}. */
export type PublishOutcome =
  | { ok: true }
  /** `permanent`: the broker will never take this record (too large, invalid); retrying cannot help. */
  | { ok: false; permanent: boolean; error: Error };

export interface EventBus {
  readonly kind: 'kafka' | 'in-process';
  /** Publishes records durably (acks=all); rejects when the broker cannot take them. */
  publish(records: OutgoingRecord[]): Promise<void>;
  /**
   * Publishes records with an outcome per record (the outbox relay). Records of one key keep
   * their order: after a record that failed, the later ones of its partition are not sent.
   * A record reported `ok` was stored; one reported failed was not, so sending it again
   * never duplicates a record.
   */
  publishEach(records: OutgoingRecord[]): Promise<PublishOutcome[]>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** The end offset of each partition of an existing topic (the offset its next record will get). */
  endOffsets(topic: string): Promise<PartitionOffset[]>;
  /**
   * A bounded read: handles the records of `topic` up to `until` and returns, so records
   * written meanwhile (e.g. by the handler itself) are not read. A handler that throws stops
   * the read (rejects), with that record uncommitted.
   */
  readUntil(options: ReadUntilOptions): Promise<void>;
  /** Creates topics that do not exist yet (no-op in-process). */
  ensureTopics(topics: string[]): Promise<void>;
  /** True when the broker answers now. */
  ping(): Promise<boolean>;
  /** Each open subscription's consumer, running or stopped. */
  subscriptionStates(): SubscriptionState[];
  close(): Promise<void>;
}

export const EVENT_BUS = Symbol('EVENT_BUS');
