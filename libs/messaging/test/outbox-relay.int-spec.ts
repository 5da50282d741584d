import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { defineEvent } from '@papka/contracts';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase, eventually, infraEnv, readTopicToEnd } from '@papka/testing';
import { AggregateSequence1763700000700, KafkaEventBus, MessagingTables1763700000000, messagingEntities, OutboxRejected1763700000600, OutboxRelay, writeToOutbox } from '../src';

const topic = `papka.test-relay-${randomUUID().slice(0, 8)}.v1`;
const Changed = defineEvent<{ blob: string }, 'blob.changed'>('blob.changed', 1, topic);
const raceTopic = `papka.test-relay-race-${randomUUID().slice(0, 8)}.v1`;
const Stepped = defineEvent<{ step: number }, 'thing.stepped'>('thing.stepped', 1, raceTopic);

/** Base64 of random bytes: compresses poorly, so sizes stay near what they say. */
const blob = (bytes: number) => randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes);

describe(`${OutboxRelay.name} (large events, real broker)`, () => {
  let dbUrl: string;
  let ds: DataSource;
  let bus: KafkaEventBus;
  let relay: OutboxRelay;

  beforeAll(async () => {
    dbUrl = await createTestDatabase('outbox_relay');
    ds = createDataSource({ url: dbUrl, entities: messagingEntities, migrations: [MessagingTables1763700000000, OutboxRejected1763700000600, AggregateSequence1763700000700], migrationsTableName: 'm' });
    await ds.initialize();
    await runMigrations(ds);
    bus = new KafkaEventBus({ brokers: infraEnv().KAFKA_BROKERS.split(','), clientId: 'test-relay' });
    await bus.ensureTopics([topic, raceTopic]);
  });

  afterAll(async () => {
    await relay?.stop();
    await bus?.close();
    await ds?.destroy();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it('publishes every row once whatever the sizes, and sets aside the one the broker can never take', async () => {
    // The drill: one aggregate with ~150 KB events changed 9 times (1.35 MB on one partition,
    // over the broker's 1 MiB limit for one request), a 2 MB event no broker setting here
    // accepts, and small events of other aggregates (other partitions) before and after.
    const heavy = randomUUID();
    const ids: string[] = [];
    let tooLarge = '';
    await ds.transaction(async (m) => {
      for (let i = 0; i < 4; i++) ids.push((await writeToOutbox(m, Changed, { accountId: 'a', aggregateId: randomUUID(), data: { blob: 'small' } })).id);
      for (let i = 0; i < 9; i++) ids.push((await writeToOutbox(m, Changed, { accountId: 'a', aggregateId: heavy, data: { blob: blob(150_000) } })).id);
      tooLarge = (await writeToOutbox(m, Changed, { accountId: 'a', aggregateId: randomUUID(), data: { blob: blob(2_000_000) } })).id;
      for (let i = 0; i < 4; i++) ids.push((await writeToOutbox(m, Changed, { accountId: 'b', aggregateId: randomUUID(), data: { blob: 'small' } })).id);
    });

    relay = new OutboxRelay(ds, bus, { pollIntervalMs: 100, maxBackoffMs: 500 });
    relay.start();
    await eventually(async () => (await relay.pending()) === 0, 60_000);
    expect(await relay.backlog()).toMatchObject({ pending: 0, rejected: 1 });

    const [rejected] = (await ds.query(`SELECT id, last_error FROM outbox WHERE rejected_at IS NOT NULL`)) as { id: string; last_error: string }[];
    expect(rejected!.id).toBe(tooLarge);
    expect(rejected!.last_error).toMatch(/large/i);

    // Everything else arrived exactly once (no batch re-sent after a partial success), and the
    // heavy aggregate's events kept their order. Counted on what the topic holds to its end once
    // the relay has stopped (nothing pending), so a re-sent batch landing after the originals counts.
    await relay.stop();
    const seen = await readTopicToEnd(topic, 0);
    const counts = new Map<string, number>();
    for (const msg of seen) {
      const id = (JSON.parse(msg.value) as { id: string }).id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const heavyOrder = seen.filter((msg) => msg.key === heavy).map((msg) => (JSON.parse(msg.value) as { id: string }).id);
    expect(heavyOrder).toEqual(ids.slice(4, 13));
  });

  it('a pass that fails half way gives its connection back outside its transaction, and its rows go out on a later pass', async () => {
    const failTopic = `papka.test-relay-fail-${randomUUID().slice(0, 8)}.v1`;
    const Failing = defineEvent<{ n: number }, 'thing.failing'>('thing.failing', 1, failTopic);
    await bus.ensureTopics([failTopic]);
    await relay?.stop(); // the first case's relay: only this case's relays may take these rows
    const ids: string[] = [];
    await ds.transaction(async (m) => {
      for (let n = 0; n < 3; n++) ids.push((await writeToOutbox(m, Failing, { accountId: 'a', aggregateId: randomUUID(), data: { n } })).id);
    });
    // A bus that throws on its first call: the pass is inside its transaction, the rows locked.
    let failedOnce!: () => void;
    const failed = new Promise<void>((resolve) => (failedOnce = resolve));
    let calls = 0;
    const flaky = Object.create(bus) as KafkaEventBus;
    flaky.publishEach = async (records) => {
      if (calls++ === 0) {
        failedOnce();
        throw new Error('bus broke mid-pass');
      }
      return bus.publishEach(records);
    };
    const own = createDataSource({ url: dbUrl, entities: messagingEntities, migrations: [], migrationsTableName: 'm' });
    await own.initialize();
    try {
      const first = new OutboxRelay(own, flaky, { pollIntervalMs: 50, maxBackoffMs: 100 });
      first.start();
      await failed;
      await first.stop();
      const open = (await ds.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`)) as { n: number }[];
      expect(open[0]!.n).toBe(0);
      expect((await ds.query(`SELECT count(*)::int AS n FROM outbox WHERE id = ANY($1) AND published_at IS NULL`, [ids])) as { n: number }[]).toEqual([{ n: 3 }]);

      const second = new OutboxRelay(own, flaky, { pollIntervalMs: 50, maxBackoffMs: 100 });
      second.start();
      await eventually(async () => (await second.pending()) === 0, 30_000);
      await second.stop();
    } finally {
      await own.destroy();
    }
    // The relays have stopped with nothing pending: the whole topic, each row on it once.
    const seen = await readTopicToEnd(failTopic, 0);
    expect(seen.map((msg) => (JSON.parse(msg.value) as { id: string }).id).sort()).toEqual([...ids].sort());
  });

  it('three replicas relaying one database while commands commit: every row published once, each aggregate in order', async () => {
    // Each relay has its own pool, as replicas do, and looks again at once (no linger, quick
    // polls), so they contend for the lock on nearly every pass.
    const replicas = await Promise.all(
      [0, 1, 2].map(async () => {
        const own = createDataSource({ url: dbUrl, entities: messagingEntities, migrations: [], migrationsTableName: 'm' });
        await own.initialize();
        const r = new OutboxRelay(own, bus, { pollIntervalMs: 5, lingerMs: 0, maxBackoffMs: 200 });
        r.start();
        return { own, r };
      }),
    );
    const aggregates = Array.from({ length: 20 }, () => randomUUID());
    const ids: string[] = [];
    try {
      // 8 writers, one event per transaction (1,200 in all), each commit kicking every relay.
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 150; i++) {
            const aggregateId = aggregates[(w * 150 + i) % aggregates.length]!;
            const e = await ds.transaction((m) => writeToOutbox(m, Stepped, { accountId: 'a', aggregateId, data: { step: i } }));
            ids.push(e.id);
            for (const { r } of replicas) r.kick();
          }
        }),
      );
      await eventually(async () => (await replicas[0]!.r.pending()) === 0, 60_000);
    } finally {
      for (const { r, own } of replicas) {
        await r.stop();
        await own.destroy();
      }
    }
    // Every relay has stopped and nothing is pending: the topic to its end, so a late duplicate counts.
    const seen = await readTopicToEnd(raceTopic, 0);
    const counts = new Map<string, number>();
    const sequences = new Map<string, number[]>();
    for (const msg of seen) {
      const e = JSON.parse(msg.value) as { id: string; sequence: number; aggregateId: string };
      counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
      sequences.set(e.aggregateId, [...(sequences.get(e.aggregateId) ?? []), e.sequence]);
    }
    expect(counts.size).toBe(ids.length);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    // Per aggregate, the partition holds its events numbered 1, 2, 3, ... in that order.
    for (const a of aggregates) expect(sequences.get(a)).toEqual(Array.from({ length: sequences.get(a)!.length }, (_, i) => i + 1));
  });
});
