import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase, eventually, infraEnv, REPO_ROOT } from '@papka/testing';
import { EventConsumer, KafkaEventBus, MessagingTables1763700000000, messagingEntities } from '../src';
import { applyStep, effectsOf, keysPerPartition, ORDERED_EFFECTS_SCHEMA, stepEvent, type Step } from './support/ordered-effects';

/**
 * The main topics are consumed a run of records at a time, several partitions at once, with
 * consecutive records sharing an inbox transaction and one offset commit per run (issue 9's
 * consumer bottleneck). What must not change: per-partition order, every effect exactly once,
 * a failing record isolated, and a crash between the database commit and the offset commit
 * costing nothing but a redelivery the inbox absorbs.
 */
describe('messaging: batched consumer (concurrent partitions, one commit per run)', () => {
  const env = infraEnv();
  const brokers = env.KAFKA_BROKERS.split(',');
  let dbUrl: string;
  let ds: DataSource;
  let admin: Admin;

  beforeAll(async () => {
    dbUrl = await createTestDatabase('consumer_batches');
    ds = createDataSource({ url: dbUrl, entities: messagingEntities, migrations: [MessagingTables1763700000000], migrationsTableName: 'm' });
    await ds.initialize();
    await runMigrations(ds);
    await ds.query(ORDERED_EFFECTS_SCHEMA);
    admin = new Kafka({ clientId: 'test-batches-admin', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await ds?.destroy();
    await dropDatabase(dbUrl);
  });

  /** `count` steps of each aggregate, seq 1..count, in order; `named` names some of them. */
  const steps = (keys: string[], count: number, named: (key: string, seq: number) => string | undefined = () => undefined) =>
    keys.flatMap((key) => Array.from({ length: count }, (_, i) => stepEvent(key, { seq: i + 1, name: named(key, i + 1) })));

  const publish = (bus: KafkaEventBus, topic: string, events: ReturnType<typeof stepEvent>[]) =>
    bus.publish(events.map((e) => ({ topic, key: e.aggregateId, value: JSON.stringify(e) })));

  /** Committed offset of each partition of `topic` for `groupId` (-1: none). */
  const committedOffsets = async (groupId: string, topic: string) => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  };

  it('handles partitions at once, each in order, and sends a failing record of a shared transaction to its retry tier alone', async () => {
    const topic = `papka.test-batches-${randomUUID().slice(0, 8)}.v1`;
    const groupId = `test-batches-${randomUUID().slice(0, 8)}`;
    const bus = new KafkaEventBus({ brokers, clientId: 'test-batches', partitions: 4 });
    const keys = keysPerPartition(topic, 4);
    // Another aggregate on partition 0, whose one event fails at its first attempt.
    const poisonKey = keysPerPartition(topic, 4)[0]!;
    const events = steps(keys, 40, (key, seq) => (seq === 1 ? `gate-${keys.indexOf(key)}` : undefined));
    const poison = stepEvent(poisonKey, { seq: 1, name: 'poison' });
    events.splice(12, 0, poison); // between steps 12 and 13 of partition 0's aggregate
    await bus.ensureTopics([topic]);
    await publish(bus, topic, events);

    /** Partitions whose first step's handler has started. */
    const started = new Set<number>();
    const gatesPassed: number[] = [];
    const poisonAttempts: number[] = [];
    const consumer = new EventConsumer({
      bus,
      dataSource: ds,
      groupId,
      topics: [topic],
      handles: () => true,
      retry: { maxAttempts: 3, backoffMs: () => 1_000 },
      dispatch: async (e, ctx) => {
        const { name } = e.data as Step;
        if (name?.startsWith('gate-')) {
          // Passes only once every partition's first step is being handled: with one partition
          // at a time this waits in vain and throws (then that step is applied late, out of order).
          started.add(ctx.partition);
          const until = Date.now() + 20_000;
          while (started.size < 4) {
            if (Date.now() > until) throw new Error(`partitions handled one at a time: only ${[...started]} started`);
            await new Promise((r) => setTimeout(r, 10));
          }
          gatesPassed.push(ctx.partition);
        }
        if (name === 'poison') {
          poisonAttempts.push(ctx.attempt);
          if (ctx.attempt === 1) throw new Error('poison fails at its first attempt');
        }
        await applyStep(e, ctx);
      },
    });
    try {
      await consumer.start();
      const aggregates = [...keys, poisonKey];
      await eventually(async () => (await effectsOf(ds, aggregates)).effects.length === events.length, 60_000);
      const { effects, outOfOrder, last } = await effectsOf(ds, aggregates);

      expect(new Set(gatesPassed)).toEqual(new Set([0, 1, 2, 3]));
      expect(outOfOrder).toEqual([]);
      expect(effects.filter((e) => e.applied !== 1)).toEqual([]);
      expect(Object.fromEntries(keys.map((k) => [k, last[k]]))).toEqual(Object.fromEntries(keys.map((k) => [k, 40])));
      // Its handler ran once per attempt: the records that shared its transaction were applied
      // again without it, and it went through the retry tier (attempt 2) on its own.
      expect(poisonAttempts).toEqual([1, 2]);
      expect(effects.find((e) => e.event_id === poison.id)?.applied).toBe(1);
    } finally {
      await consumer.stop();
      await bus.close();
    }
  });

  it('applies every record once after a crash mid-batch: handled records whose offsets were not committed are redelivered and absorbed by the inbox', async () => {
    const topic = `papka.test-crash-${randomUUID().slice(0, 8)}.v1`;
    const groupId = `test-crash-${randomUUID().slice(0, 8)}`;
    const bus = new KafkaEventBus({ brokers, clientId: 'test-crash', partitions: 3 });
    const keys = keysPerPartition(topic, 3);
    const events = steps(keys, 60, (key, seq) => (key === keys[0] && seq === 31 ? 'crash' : undefined));
    await bus.ensureTopics([topic]);
    await publish(bus, topic, events);
    await bus.close();

    const logDir = path.join(REPO_ROOT, '.cache/test-logs');
    mkdirSync(logDir, { recursive: true });
    const children: ChildProcess[] = [];
    /** The consumer in its own process (support/step-consumer.main.ts); resolves when it exits. */
    const run = (name: string, extra: Record<string, string>) => {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, 'support/step-consumer.main.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: dbUrl, KAFKA_BROKERS: env.KAFKA_BROKERS, TOPIC: topic, GROUP: groupId, PARTITIONS: '3', ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const log = createWriteStream(path.join(logDir, `step-consumer-${name}-${groupId}.log`));
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      return { child, exited };
    };

    try {
      // 1. It dies inside the handler of step 31 of partition 0's aggregate.
      const first = run('crashing', { KILL_ON: 'crash' });
      await expect(first.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });

      const atCrash = await effectsOf(ds, keys);
      const committed = await committedOffsets(groupId, topic);
      const p0 = atCrash.effects.filter((e) => e.aggregate === keys[0]);
      // The crash came mid-batch: steps of partition 0 committed in the database, their offsets not in Kafka.
      const handledUncommitted = p0.filter((e) => BigInt(e.kafka_offset) >= (committed.get(0) ?? -1n));
      expect(handledUncommitted.length).toBeGreaterThan(0);
      expect(p0.some((e) => e.seq === 31)).toBe(false); // its transaction was rolled back

      // 2. A new consumer of the group gets them all again.
      const second = run('after-crash', {});
      await eventually(async () => (await effectsOf(ds, keys)).effects.length === events.length, 120_000, 500);
      await eventually(async () => {
        const now = await committedOffsets(groupId, topic);
        const ends = await admin.fetchTopicOffsets(topic);
        return ends.every((o) => now.get(o.partition) === BigInt(o.high));
      }, 30_000, 500);
      second.child.kill('SIGTERM');
      await expect(second.exited).resolves.toEqual({ code: 0, signal: null });

      const { effects, outOfOrder, last } = await effectsOf(ds, keys);
      expect(effects.filter((e) => e.applied !== 1)).toEqual([]);
      expect(outOfOrder).toEqual([]);
      expect(last).toEqual(Object.fromEntries(keys.map((k) => [k, 60])));
      const [{ n }] = (await ds.query('SELECT count(*)::int AS n FROM inbox WHERE consumer_group = $1', [groupId])) as [{ n: number }];
      expect(n).toBe(events.length);
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  }, 240_000);
});
