import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { dlqTopic, type EventEnvelope } from '@papka/contracts';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase, eventually, infraEnv, REPO_ROOT } from '@papka/testing';
import { EventConsumer, KafkaEventBus, listDeadLetters, MessagingTables1763700000000, messagingEntities, replayDeadLetters } from '../src';

const run = promisify(execFile);

/**
 * Defect 10 of issue 10: a replay stayed subscribed to the DLQ until idle, so a record that
 * failed again was replayed again - one bad-JSON record became three copies in one run. Now a
 * replay reads up to the end offsets taken at its start and skips records that can never
 * succeed; `npm run dlq -- list|replay <topic>` is the operators' command.
 */
describe('messaging: dead letters (list, replay, never multiplied)', () => {
  const env = infraEnv();
  const topic = `papka.test-dlq-${randomUUID().slice(0, 8)}.v1`;
  const groupId = `test-dlq-${randomUUID().slice(0, 8)}`;
  const fixable: EventEnvelope<{ name: string }> = {
    id: randomUUID(),
    type: 'thing.changed',
    version: 1,
    occurredAt: new Date().toISOString(),
    accountId: 'acc-1',
    aggregateId: randomUUID(),
    traceId: randomUUID(),
    data: { name: 'fixable' },
  };
  /** Flipped once the dead letters are in: the "bug" that made `fixable` fail is fixed. */
  let fixed = false;
  let handled = 0;
  let dbUrl: string;
  let ds: DataSource;
  let bus: KafkaEventBus;
  let consumer: EventConsumer;

  /** Records in the DLQ (a fresh topic: its partitions start at 0). */
  const dlqCount = async () => (await bus.endOffsets(dlqTopic(topic))).reduce((n, o) => n + Number(o.offset), 0);

  /** The operators' command, as they run it. */
  const dlqCli = async (...args: string[]) => {
    const { stdout } = await run('npm', ['run', '-s', 'dlq', '--', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KAFKA_BROKERS: env.KAFKA_BROKERS },
      timeout: 90_000,
    });
    return stdout.trim().split('\n');
  };

  beforeAll(async () => {
    dbUrl = await createTestDatabase('dlq');
    ds = createDataSource({ url: dbUrl, entities: messagingEntities, migrations: [MessagingTables1763700000000], migrationsTableName: 'm' });
    await ds.initialize();
    await runMigrations(ds);
    bus = new KafkaEventBus({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'test-dlq' });
    consumer = new EventConsumer({
      bus,
      dataSource: ds,
      groupId,
      topics: [topic],
      handles: () => true,
      retry: { maxAttempts: 2, backoffMs: () => 1_000 },
      dispatch: async () => {
        if (!fixed) throw new Error('fixable fails until fixed');
        handled++;
      },
    });
    await consumer.start();
    // Two dead letters: a record that is not an event at all, and an event whose handler fails.
    await bus.publish([
      { topic, key: 'bad', value: '{"this is": not json' },
      { topic, key: fixable.aggregateId, value: JSON.stringify(fixable) },
    ]);
    await eventually(async () => (await dlqCount()) === 2, 60_000);
  });

  afterAll(async () => {
    await consumer?.stop();
    await bus?.close();
    await ds?.destroy();
    await dropDatabase(dbUrl);
  });

  it('lists every dead letter with where it is, whose it is and why (npm run dlq -- list)', async () => {
    const lines = await dlqCli('list', topic, '--group', groupId);
    expect(lines).toHaveLength(3);
    const bad = lines.find((l) => l.includes('type=-'));
    const event = lines.find((l) => l.includes(`id=${fixable.id}`));
    expect(bad).toMatch(new RegExp(`^partition=\\d offset=\\d+ group=${groupId} attempts=0 type=- id=- .*error="record is not a valid event envelope"$`));
    expect(event).toMatch(new RegExp(`^partition=\\d offset=\\d+ group=${groupId} attempts=2 type=thing.changed id=${fixable.id} .*from=${topic}/\\d/\\d+ error="fixable fails until fixed"$`));
    expect(lines[2]).toBe(`2 dead letter(s) in ${topic}.dlq of group ${groupId}`);
    // Another group's dead letters are not this group's.
    expect(await dlqCli('list', `${topic}.dlq`, '--group', 'someone-else')).toEqual([`0 dead letter(s) in ${topic}.dlq of group someone-else`]);
  });

  it('replays the valid one once and skips the never-valid one, twice over, without multiplying either', async () => {
    const before = await dlqCount();
    const [badLetter] = (await listDeadLetters({ bus, topic, groupId })).filter((d) => d.eventType === null);
    fixed = true;

    // Replay 1: the CLI.
    const out = await dlqCli('replay', topic, '--group', groupId);
    expect(out).toEqual([
      `skipped partition=${badLetter!.partition} offset=${badLetter!.offset} reason="not a valid event envelope"`,
      expect.stringMatching(new RegExp(`^replayed=1 skipped=1 \\(${topic}\\.dlq up to [\\d:,]+, group ${groupId}\\)$`)),
    ]);
    await eventually(async () => handled === 1, 30_000);

    // Replay 2: nothing new since the first one.
    await expect(replayDeadLetters({ bus, topic, groupId })).resolves.toMatchObject({ replayed: 0, skipped: [] });

    // Give a re-dead-lettered copy the time to show up (retries are 1 s apart here).
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await dlqCount()).toBe(before);
    expect((await listDeadLetters({ bus, topic })).filter((d) => d.eventType === null)).toHaveLength(1);
    expect(handled).toBe(1);
  });
});
