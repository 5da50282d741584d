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

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /**
   * Handles one record. Resolving commits its offset; throwing leaves it uncommitted and the
   * record is delivered again after a back-off (the adapter never skips it).
   */
  handler: RecordHandler;
}

export interface Subscription {
  close(): Promise<void>;
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
  /** Creates topics that do not exist yet (no-op in-process). */
  ensureTopics(topics: string[]): Promise<void>;
  /** True when the broker answers now. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const EVENT_BUS = Symbol('EVENT_BUS');
