import { randomUUID } from 'node:crypto';
import { companionTopics } from '@papka/contracts';
import { KafkaEventBus } from '@papka/messaging';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { infraEnv } from './infra';

export interface ReadMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** The tools/infra broker, as the tests reach it. */
const brokers = () => infraEnv().KAFKA_BROKERS.split(',');
const testKafka = (clientId: string) => new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING });

const toRead = (topic: string, partition: number, m: KafkaMessage): ReadMessage => ({
  topic,
  partition,
  offset: m.offset,
  key: m.key?.toString('utf8') ?? null,
  value: m.value?.toString('utf8') ?? '',
  headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)])),
});

/**
 * When this module was loaded (once per spec file: jest gives each file its own modules), less a
 * second of clock slack. Whatever a spec waits for was published after it, so readTopic starts
 * there instead of at a topic's first record: on a development Kafka that benches have filled
 * with millions of records, reading from the beginning outlasted the tests' timeouts.
 */
const LOADED_AT = Date.now() - 1_000;

/**
 * Reads a topic with a throw-away consumer group until `done(messages)` holds or the timeout
 * passes; returns what it saw either way (the test asserts on it). It starts at the first record
 * published since `since` (default: since this spec file was loaded).
 */
export async function readTopic(
  topic: string,
  done: (messages: ReadMessage[]) => boolean,
  timeoutMs = 30_000,
  since = LOADED_AT,
): Promise<ReadMessage[]> {
  const kafka = testKafka('papka-test-reader');
  const started = Date.now();
  const groupId = `test-reader-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      try {
        const starts = await admin.fetchTopicOffsetsByTimestamp(topic, since);
        // The throw-away group starts there: its committed offsets, set before it has a member.
        await admin.setOffsets({ groupId, topic, partitions: starts });
        break;
      } catch (err) {
        // A broker that has just come back may not lead its partitions yet: wait for it, as the consumer would.
        if (!(err as { retriable?: boolean }).retriable || Date.now() - started > timeoutMs) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const seen: ReadMessage[] = [];
  await consumeUntil(kafka, groupId, topic, timeoutMs, (m) => {
    seen.push(m);
    return done(seen);
  });
  return seen;
}

/**
 * Runs a consumer of `groupId` (its offsets already set) over `topic`, handing each record to
 * `take` until it answers true (then `'done'`) or `timeoutMs` passes (`'expired'`).
 */
async function consumeUntil(kafka: ReturnType<typeof testKafka>, groupId: string, topic: string, timeoutMs: number, take: (m: ReadMessage) => boolean): Promise<'done' | 'expired'> {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let finish: () => void = () => undefined;
    const finished = new Promise<'done'>((resolve) => (finish = () => resolve('done')));
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        if (take(toRead(t, partition, message))) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((r) => (timer = setTimeout(() => r('expired'), timeoutMs)));
    const outcome = await Promise.race([finished, expired]);
    clearTimeout(timer);
    return outcome;
  } finally {
    await consumer.disconnect();
  }
}

/**
 * Every record of a topic from `since` up to its end offsets as they are when this is called:
 * each partition is read until its last record before that end, not until some count of
 * records has arrived, so a duplicate published after the originals is read (and counted) too.
 * Call it once whatever publishes has stopped. Throws when a partition is not read to its end
 * within `timeoutMs` (an incomplete read would undercount).
 */
export async function readTopicToEnd(topic: string, since = LOADED_AT, timeoutMs = 60_000): Promise<ReadMessage[]> {
  const kafka = testKafka('papka-test-reader');
  const groupId = `test-reader-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  let starts: { partition: number; offset: string }[];
  const ends = new Map<number, bigint>();
  try {
    starts = await admin.fetchTopicOffsetsByTimestamp(topic, since);
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(p.partition, BigInt(p.high));
    await admin.setOffsets({ groupId, topic, partitions: starts });
  } finally {
    await admin.disconnect();
  }
  // Partitions with records in [start, end): each is done once its record at end - 1 is read.
  const open = new Set(starts.filter((s) => BigInt(s.offset) < ends.get(s.partition)!).map((s) => s.partition));
  const seen: ReadMessage[] = [];
  if (open.size === 0) return seen;
  const outcome = await consumeUntil(kafka, groupId, topic, timeoutMs, (m) => {
    const last = ends.get(m.partition)! - 1n;
    if (BigInt(m.offset) > last) return false; // published after the ends were taken
    seen.push(m);
    if (BigInt(m.offset) === last) open.delete(m.partition);
    return open.size === 0;
  });
  if (outcome === 'expired') throw new Error(`readTopicToEnd(${topic}): partitions ${[...open].join(', ')} not read to their end offsets within ${timeoutMs} ms`);
  return seen;
}

/**
 * Per partition of each topic, its end offset now. The topics (with their retry and dead-letter
 * companions) are created first the way the services create them: a spec that runs first on a
 * new broker would otherwise auto-create them by asking, and get "This server does not host this
 * topic-partition" while their leaders are elected (CI saw it).
 */
export async function topicEnds(topics: string[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]> {
  const bus = new KafkaEventBus({ brokers: brokers(), clientId: 'papka-test-topics' });
  try {
    await bus.ensureTopics(topics.flatMap(companionTopics));
  } finally {
    await bus.close();
  }
  const admin = testKafka('papka-test-topics').admin();
  await admin.connect();
  try {
    return await Promise.all(topics.map(async (topic) => ({ topic, partitions: (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high })) })));
  } finally {
    await admin.disconnect();
  }
}

/** Publishes one record as is (a test standing in for a service's relay, say to time when an event arrives). */
export async function publishRecord(topic: string, key: string, value: string): Promise<void> {
  const producer = testKafka('papka-test-publisher').producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ key, value }] });
  } finally {
    await producer.disconnect();
  }
}
