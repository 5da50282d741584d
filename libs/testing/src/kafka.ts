import { randomUUID } from 'node:crypto';
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

const toRead = (topic: string, partition: number, m: KafkaMessage): ReadMessage => ({
  topic,
  partition,
  offset: m.offset,
  key: m.key?.toString('utf8') ?? null,
  value: m.value?.toString('utf8') ?? '',
  headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)])),
});

/**
 * Reads a topic from the beginning with a throw-away consumer group until `done(messages)`
 * holds or the timeout passes; returns what it saw either way (the test asserts on it).
 */
export async function readTopic(
  topic: string,
  done: (messages: ReadMessage[]) => boolean,
  timeoutMs = 30_000,
): Promise<ReadMessage[]> {
  const kafka = new Kafka({ clientId: 'papka-test-reader', brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}` });
  const seen: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        seen.push(toRead(t, partition, message));
        if (done(seen)) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}
