import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { retryTierTopic, type EventEnvelope } from '@papka/contracts';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase, eventually, infraEnv, readTopic } from '@papka/testing';
import { EventConsumer, FailureHeaders, KafkaEventBus, MessagingTables1763700000000, messagingEntities } from '../src';

/**
 * Defect 9 of issue 10: with one `.retry` topic a record sleeping until its long back-off was
 * due held up every record behind it on its partition - a retry due after 30 s ran after 120 s.
 * Now each delay has its own topic, so a short retry never waits behind a longer one.
 */
describe('messaging: retry tiers (no record waits behind a longer back-off)', () => {
  const env = infraEnv();
  const topic = `papka.test-tiers-${randomUUID().slice(0, 8)}.v1`;
  const groupId = `test-tiers-${randomUUID().slice(0, 8)}`;
  /** One key for both records: the same partition of every topic. */
  const key = randomUUID();
  /** `<name>#<attempt>` for each call, and `<name>#<attempt> ok` once it succeeded. */
  const calls: string[] = [];
  let dbUrl: string;
  let ds: DataSource;
  let bus: KafkaEventBus;
  let consumer: EventConsumer;

  const envelope = (name: string): EventEnvelope<{ name: string }> => ({
    id: randomUUID(),
    type: 'thing.changed',
    version: 1,
    occurredAt: new Date().toISOString(),
    accountId: 'acc-1',
    aggregateId: key,
    traceId: randomUUID(),
    data: { name },
  });

  beforeAll(async () => {
    dbUrl = await createTestDatabase('retry_tiers');
    ds = createDataSource({ url: dbUrl, entities: messagingEntities, migrations: [MessagingTables1763700000000], migrationsTableName: 'm' });
    await ds.initialize();
    await runMigrations(ds);
    bus = new KafkaEventBus({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'test-tiers' });
    consumer = new EventConsumer({
      bus,
      dataSource: ds,
      groupId,
      topics: [topic],
      handles: () => true,
      // A: attempt 1 fails (retry in 1 s), attempt 2 fails (retry in 15 s), attempt 3 fails.
      // B: attempt 1 fails (retry in 1 s), attempt 2 succeeds.
      retry: { maxAttempts: 3, backoffMs: (n) => (n === 1 ? 1_000 : 15_000) },
      dispatch: async (e, ctx) => {
        const name = (e.data as { name: string }).name;
        calls.push(`${name}#${ctx.attempt}`);
        if (name === 'A' || ctx.attempt < 2) throw new Error(`${name} fails at attempt ${ctx.attempt}`);
        calls.push(`${name}#${ctx.attempt} ok`);
      },
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await bus?.close();
    await ds?.destroy();
    await dropDatabase(dbUrl);
  });

  it("handles B's 1 s retry before A's 15 s retry queued ahead of it on the same partition", async () => {
    const a = envelope('A');
    await bus.publish([{ topic, key, value: JSON.stringify(a) }]);
    // A's second attempt failed: its third one is due in 15 s, on the 15 s tier.
    await eventually(async () => calls.includes('A#2'), 30_000);
    const queued = await readTopic(retryTierTopic(topic, 15_000), (ms) => ms.some((m) => m.value.includes(a.id)), 15_000);
    expect(queued.find((m) => m.value.includes(a.id))?.headers).toMatchObject({ [FailureHeaders.attempts]: '2', [FailureHeaders.consumerGroup]: groupId });

    // B fails once after that; its retry (1 s) is queued behind A's (15 s) in the old single .retry topic.
    await bus.publish([{ topic, key, value: JSON.stringify(envelope('B')) }]);
    await eventually(async () => calls.includes('A#3'), 60_000);
    await eventually(async () => calls.includes('B#2 ok'), 60_000);

    expect(calls.indexOf('B#1')).toBeGreaterThan(calls.indexOf('A#2'));
    // The order, not a wall-clock bound: B's retry ran while A's longer back-off was still pending.
    expect(calls.indexOf('B#2 ok')).toBeLessThan(calls.indexOf('A#3'));
  });
});
