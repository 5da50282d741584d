import { randomUUID } from 'node:crypto';
import { Controller, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { defineEvent, dlqTopic, type EventEnvelope } from '@papka/contracts';
import {
  connectEventConsumer,
  FailureHeaders,
  KafkaEventBus,
  MessagingTables1763700000000,
  OutboxRejected1763700000600,
  AggregateSequence1763700000700,
  messagingEntities,
  OutboxRelay,
  replayDeadLetters,
  writeToOutbox,
  type EventContext,
} from '../src';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase, eventually, infraEnv, readTopic } from '@papka/testing';

interface Thing {
  id: string;
  name: string;
  poison?: boolean;
}

const topic = `papka.test-${randomUUID().slice(0, 8)}.v1`;
const ThingChanged = defineEvent<Thing, 'thing.changed'>('thing.changed', 1, topic);
/** Names of the things the handler was called for, in order. */
const calls: string[] = [];
/** Flipped by the replay test: the "bug" that poisoned the event is fixed. */
let poisonFixed = false;

/** A consumer as services write them: an @EventPattern handler writing through ctx.manager. */
@Controller()
class ThingProjector {
  @EventPattern(ThingChanged.type)
  async onChanged(@Payload() e: EventEnvelope<Thing>, @Ctx() ctx: EventContext): Promise<void> {
    calls.push(e.data.name);
    if (e.data.poison && !poisonFixed) throw new Error(`cannot project ${e.data.name}`);
    await ctx.manager.query(
      `INSERT INTO thing (id, name, changes) VALUES ($1, $2, 1)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, changes = thing.changes + 1`,
      [e.aggregateId, e.data.name],
    );
  }
}

@Module({ controllers: [ThingProjector] })
class ProjectorModule {}

describe('messaging: outbox -> Kafka -> inbox consumer', () => {
  const env = infraEnv();
  const brokers = env.KAFKA_BROKERS.split(',');
  const groupId = `test-projector-${randomUUID().slice(0, 8)}`;
  let dbUrl: string;
  let ds: DataSource;
  let bus: KafkaEventBus;
  let relay: OutboxRelay;
  let consumer: INestApplication | null = null;

  // As the services run it: an app with the consumer connected (a hybrid app).
  const startConsumer = async () => {
    consumer = await NestFactory.create(ProjectorModule, { logger: false });
    connectEventConsumer(consumer, { bus, dataSource: ds, groupId, topics: [topic], retry: { maxAttempts: 3, backoffMs: () => 300 } });
    await consumer.init();
    await consumer.startAllMicroservices();
  };

  const emit = (thing: Thing) =>
    ds.transaction((m) => writeToOutbox(m, ThingChanged, { accountId: 'acc-1', aggregateId: thing.id, data: thing }));

  const things = async () =>
    (await ds.query('SELECT id, name, changes FROM thing ORDER BY name')) as { id: string; name: string; changes: number }[];

  beforeAll(async () => {
    dbUrl = await createTestDatabase('messaging');
    ds = createDataSource({ url: dbUrl, entities: messagingEntities, migrations: [MessagingTables1763700000000, OutboxRejected1763700000600, AggregateSequence1763700000700], migrationsTableName: 'm' });
    await ds.initialize();
    await runMigrations(ds);
    await ds.query('CREATE TABLE thing (id uuid PRIMARY KEY, name text NOT NULL, changes int NOT NULL)');
    bus = new KafkaEventBus({ brokers, clientId: 'test' });
    await bus.ensureTopics([topic]);
    relay = new OutboxRelay(ds, bus, { pollIntervalMs: 100 });
    relay.start();
    await startConsumer();
  });

  afterAll(async () => {
    await consumer?.close();
    await relay.stop();
    await bus.close();
    await ds.destroy();
    await dropDatabase(dbUrl);
  });

  it('creates the same new topics from several services at once without failing any of them, served once it returns', async () => {
    const fresh = [0, 1, 2, 3, 4, 5].map((i) => `papka.test-race-${randomUUID().slice(0, 8)}-${i}.v1`);
    const buses = [0, 1, 2, 3].map((i) => new KafkaEventBus({ brokers, clientId: `test-race-${i}` }));
    try {
      // As when contractors, documents and interactions start side by side on a new cluster.
      await Promise.all(buses.map((b) => b.ensureTopics(fresh.flatMap((t) => [t, `${t}.retry`, `${t}.dlq`]))));
      // No retries: a caller's first read of the offsets must work (before the fix, a new
      // topic's leader was in the metadata while ListOffsets still said "not the leader").
      const admin = new Kafka({ clientId: 'test-admin', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: fresh });
        expect(topics.map((t) => t.partitions.every((p) => p.leader >= 0))).toEqual(fresh.map(() => true));
        const ends = await Promise.all(fresh.map(async (t) => (await admin.fetchTopicOffsets(t)).map((p) => p.high)));
        expect(ends).toEqual(fresh.map(() => ['0', '0', '0']));
      } finally {
        await admin.disconnect();
      }
    } finally {
      await Promise.all(buses.map((b) => b.close()));
    }
  });

  it('publishes a retry or DLQ copy as the relay did its original: compressed, so what fitted the broker once fits again', async () => {
    // 1.5 MB of JSON: over the broker's 1 MiB message limit raw, a few KB gzipped.
    const big = JSON.stringify({ description: '<p>'.repeat(500_000) });
    // A topic of its own: the suite's consumer would dead-letter a record that is not an envelope.
    const copies = `papka.test-copies-${randomUUID().slice(0, 8)}.v1`;
    await bus.ensureTopics([copies]);
    await bus.publish([{ topic: copies, key: 'big', value: big, headers: {} }]);
    const onTopic = await readTopic(copies, (ms) => ms.some((m) => m.value.length === big.length), 20_000);
    expect(onTopic.some((m) => m.value === big)).toBe(true);
  });

  it('publishes committed events once and nothing for a rolled-back transaction', async () => {
    const kept = { id: randomUUID(), name: 'kept' };
    await ds
      .transaction(async (m) => {
        await writeToOutbox(m, ThingChanged, { accountId: 'acc-1', aggregateId: randomUUID(), data: { id: randomUUID(), name: 'rolled-back' } });
        throw new Error('rollback');
      })
      .catch(() => undefined);
    await emit(kept);
    relay.kick();

    const rows = await eventually(async () => {
      const r = await things();
      return r.some((t) => t.name === 'kept') && r;
    });
    expect(rows.map((t) => t.name)).not.toContain('rolled-back');
    const onTopic = await readTopic(topic, (ms) => ms.some((m) => m.value.includes('"kept"')), 10_000);
    expect(onTopic.filter((m) => m.value.includes('"kept"'))).toHaveLength(1);
    expect(onTopic.some((m) => m.value.includes('rolled-back'))).toBe(false);
    const kafkaKey = onTopic.find((m) => m.value.includes('"kept"'))!.key;
    expect(kafkaKey).toBe(kept.id); // key = aggregateId: per-aggregate ordering
  });

  it('dead-letters a poison event after its retries without blocking the events behind it', async () => {
    const poison = { id: randomUUID(), name: 'poison', poison: true };
    const behind = { id: randomUUID(), name: 'behind-poison' };
    await emit(poison);
    await emit(behind);
    relay.kick();

    // The event behind the poison one is handled long before the poison one is given up on.
    await eventually(async () => (await things()).some((t) => t.name === 'behind-poison'), 10_000);

    const dlq = await readTopic(dlqTopic(topic), (ms) => ms.some((m) => m.value.includes('"poison"')), 30_000);
    const dead = dlq.find((m) => m.value.includes('"poison"'));
    expect(dead).toBeDefined();
    expect(dead!.headers).toMatchObject({
      [FailureHeaders.originalTopic]: topic,
      [FailureHeaders.attempts]: '3',
      [FailureHeaders.consumerGroup]: groupId,
      [FailureHeaders.error]: 'cannot project poison',
    });
    expect(dead!.headers[FailureHeaders.originalOffset]).toMatch(/^\d+$/);
    expect(dead!.headers[FailureHeaders.originalPartition]).toMatch(/^\d+$/);
    expect(calls.filter((name) => name === 'poison')).toHaveLength(3);

    // The .dlq topic was created with its 30-day retention (topicConfig).
    const admin = new Kafka({ clientId: 'test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: dlqTopic(topic), configNames: ['retention.ms'] }],
      });
      expect(described.resources[0]!.configEntries.find((c) => c.configName === 'retention.ms')?.configValue).toBe('2592000000');
    } finally {
      await admin.disconnect();
    }
  });

  it('leaves the read model unchanged when the whole topic is replayed (offset reset)', async () => {
    const before = await things();
    const callsBefore = calls.length;
    await consumer!.close();
    consumer = null;

    const admin = new Kafka({ clientId: 'test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.resetOffsets({ groupId, topic, earliest: true });
    await admin.disconnect();

    await startConsumer();
    // A marker published after the reset proves the replayed events were all consumed.
    const marker = { id: randomUUID(), name: 'zz-marker' };
    await emit(marker);
    relay.kick();
    await eventually(async () => (await things()).some((t) => t.name === 'zz-marker'), 30_000);

    const after = (await things()).filter((t) => t.name !== 'zz-marker');
    expect(after).toEqual(before);
    // Only the marker reached the handler among handled events: every replayed one was a
    // no-op in the inbox. (The poison event is not handled, so a replay tries it again.)
    expect(calls.slice(callsBefore).filter((name) => name !== 'poison')).toEqual(['zz-marker']);
  });

  it('replays dead letters through the retry path once the handler is fixed', async () => {
    poisonFixed = true;
    const { replayed, skipped } = await replayDeadLetters({ bus, topic, groupId });
    expect(replayed).toBeGreaterThanOrEqual(1);
    expect(skipped).toEqual([]);
    const rows = await eventually(async () => {
      const r = await things();
      return r.some((t) => t.name === 'poison') && r;
    }, 30_000);
    expect(rows.filter((t) => t.name === 'poison')).toEqual([expect.objectContaining({ changes: 1 })]);
    // A second replay finds nothing new to send (its own offsets are committed).
    await expect(replayDeadLetters({ bus, topic, groupId })).resolves.toMatchObject({ replayed: 0, skipped: [] });
  });
});
