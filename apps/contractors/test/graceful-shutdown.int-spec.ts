import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Client } from 'pg';
import { Pool } from 'undici';
import { Topics, type EventEnvelope } from '@papka/contracts';
import {
  createTestDatabase,
  dadataEnv,
  dropDatabase,
  eventually,
  infraEnv,
  s3Env,
  serviceEnv,
  startFakeDadata,
  startService,
  testToken,
  type FakeDadata,
  type RunningService,
} from '@papka/testing';

/**
 * SIGTERM under load, as a rolling update or a node drain sends it. contractors is under HTTP
 * load, straight from undici's keep-alive pool (what the gateway's proxy keeps to a service):
 * every request it accepted gets its answer and its effect committed, none is reset, the later
 * ones are refused (a new connection refused is fine: the client tries another pod). interactions
 * is consuming the events those requests emit: its consumer leaves its groups at once and has
 * committed exactly what it handled. Both exit well within the pods' grace period.
 */

/** Well under k8s terminationGracePeriodSeconds (40 s; 60 s for documents), minus its 5 s preStop. */
const GRACE_MS = 10_000;
/** The load's bound: it stops at the server's first refusal anyway. */
const MAX_REQUESTS = 20_000;
const CONCURRENCY = 8;
/** Answered creates before the SIGTERM. */
const SIGNAL_AFTER = 100;
const GROUP = 'interactions';

type Outcome = { kind: 'answered'; status: number; uuid?: string } | { kind: 'refused' } | { kind: 'broken'; error: string };

/** Is the process gone (exited and reaped, or a zombie waiting to be)? */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** SIGTERMs a started service; resolves with the ms it took to exit (it is SIGKILLed after `GRACE_MS` + 5 s). */
async function terminate(svc: RunningService): Promise<number> {
  const started = Date.now();
  process.kill(svc.pid, 'SIGTERM');
  while (!gone(svc.pid)) {
    if (Date.now() - started > GRACE_MS + 5_000) {
      process.kill(svc.pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

const errorCode = (err: unknown): string => {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  return e.code ?? e.cause?.code ?? e.message ?? String(err);
};

describe('graceful shutdown under load (PostgreSQL + Kafka)', () => {
  let dadata: FakeDadata;
  let contractorsDb: string;
  let interactionsDb: string;
  let contractors: RunningService;
  let interactions: RunningService;
  let admin: Admin;

  const query = async <T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  };

  /** The consumer groups of interactions' consumer: the main one and one per retry topic. */
  const groupsOfInteractions = async () => (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g === GROUP || g.startsWith(`${GROUP}.retry`));

  beforeAll(async () => {
    dadata = await startFakeDadata();
    [contractorsDb, interactionsDb] = await Promise.all([createTestDatabase('shutdown_contractors'), createTestDatabase('shutdown_interactions')]);
    const kafka = new Kafka({ clientId: 'papka-test-shutdown', brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    [contractors, interactions] = await Promise.all([
      startService('contractors', serviceEnv({ DATABASE_URL: contractorsDb, ...dadataEnv(dadata), LOG_LEVEL: 'info' })),
      startService('interactions', serviceEnv({ ...s3Env(), DATABASE_URL: interactionsDb, LOG_LEVEL: 'info' })),
    ]);
    // The consumer is in its group, and has caught up with what earlier tests published (its
    // group is shared), before the load starts: then it is busy with this test's events.
    await eventually(async () => {
      const [group] = (await admin.describeGroups([GROUP])).groups;
      return group?.state === 'Stable' && group.members.length > 0 && (await lag()) === 0n;
    }, 90_000, 500);
  });

  /** How far the group `interactions` is behind on the topics it reads. */
  const lag = async (): Promise<bigint> => {
    let behind = 0n;
    for (const topic of [Topics.contractors, Topics.documents]) {
      const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [topic] });
      const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      for (const o of await admin.fetchTopicOffsets(topic)) {
        const from = at.get(o.partition) ?? -1n;
        behind += BigInt(o.high) - (from < 0n ? BigInt(o.low) : from);
      }
    }
    return behind;
  };

  afterAll(async () => {
    await contractors?.stop();
    await interactions?.stop();
    await admin?.disconnect();
    await dadata?.close();
    for (const db of [contractorsDb, interactionsDb]) if (db) await dropDatabase(db);
  });

  it('finishes every accepted request, resets none, leaves the consumer groups with their offsets committed, and exits in time', async () => {
    const account = `acc-shutdown-${Date.now()}`;
    const token = await testToken(account);
    const pool = new Pool(contractors.url, { connections: CONCURRENCY, pipelining: 1 });
    const outcomes: Outcome[] = [];
    let next = 0;
    let answered = 0;

    const createOne = async (i: number): Promise<Outcome> => {
      try {
        const res = await pool.request({
          method: 'POST',
          path: '/v2/docs/contractors',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 3, name: `ИП Нагрузочный ${i}`, address: 'г Тверь' }),
        });
        const text = await res.body.text();
        const body = (text ? JSON.parse(text) : {}) as { uuid?: string };
        return { kind: 'answered', status: res.statusCode, uuid: body.uuid };
      } catch (err) {
        const code = errorCode(err);
        return code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'broken', error: `request ${i}: ${code}` };
      }
    };

    // Events of earlier tests the consumer caught up with are in its inbox too.
    const inboxSize = async () =>
      Number((await query<{ n: string }>(interactionsDb, 'SELECT count(*) AS n FROM inbox WHERE consumer_group = $1', [GROUP]))[0]!.n);
    const before = await inboxSize();
    let stopLoad = false;
    // Each worker sends creates until the server refuses it (bounded by MAX_REQUESTS).
    const worker = async () => {
      while (next < MAX_REQUESTS && !stopLoad) {
        const outcome = await createOne(next++);
        outcomes.push(outcome);
        if (outcome.kind === 'answered') answered++;
        if (outcome.kind !== 'answered') return;
      }
    };
    // Mid-load, both at once, once the consumer is handling this test's events.
    const signaller = async () => {
      await eventually(async () => answered >= SIGNAL_AFTER && (await inboxSize()) >= before + 5, 30_000, 20).catch((err: Error) => {
        stopLoad = true;
        throw err;
      });
      const [contractorsMs, interactionsMs] = await Promise.all([terminate(contractors), terminate(interactions)]);
      return { contractorsMs, interactionsMs };
    };
    const [{ contractorsMs, interactionsMs }] = await Promise.all([signaller(), ...Array.from({ length: CONCURRENCY }, worker)]);
    await pool.close().catch(() => undefined);

    // HTTP: every request got a proper answer or a clean refusal; none was reset or cut off.
    expect(outcomes.filter((o) => o.kind === 'broken')).toEqual([]);
    const ok = outcomes.filter((o): o is Extract<Outcome, { kind: 'answered' }> => o.kind === 'answered');
    expect(ok.filter((o) => o.status !== 201)).toEqual([]);
    expect(ok.length).toBeGreaterThanOrEqual(SIGNAL_AFTER);
    expect(outcomes.filter((o) => o.kind === 'refused').length).toBeGreaterThan(0); // the load outlived the server
    // Each answered create was committed (and nothing else was).
    const rows = await query<{ id: string }>(contractorsDb, 'SELECT id FROM contractor WHERE account_id = $1', [account]);
    expect(rows.map((r) => r.id).sort()).toEqual(ok.map((o) => o.uuid).sort());

    // Both processes exited within the grace period.
    expect(contractorsMs).toBeLessThan(GRACE_MS);
    expect(interactionsMs).toBeLessThan(GRACE_MS);

    // The consumer left its groups (a member that just vanished would stay in them for the
    // 30 s session timeout, holding its partitions).
    const groups = await groupsOfInteractions();
    expect(groups).toContain(GROUP);
    const described = (await admin.describeGroups(groups)).groups.map((g) => ({ group: g.groupId, state: g.state, members: g.members.length }));
    expect(described).toEqual(groups.map((group) => ({ group, state: 'Empty', members: 0 })));

    // It committed exactly what it handled: an event of this test is in the inbox if and only
    // if its offset is below the committed one (nothing handled stays uncommitted, nothing is
    // committed unhandled).
    const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [Topics.contractors] });
    const committedAt = new Map(committed!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
    const handled = new Set(
      (await query<{ event_id: string }>(interactionsDb, 'SELECT event_id FROM inbox WHERE consumer_group = $1', [GROUP])).map((r) => r.event_id),
    );
    const events = await readEvents(admin, Topics.contractors, account);
    expect(events.length).toBeGreaterThan(0);
    const mismatched = events
      .map((e) => ({ ...e, handled: handled.has(e.id), committedAt: committedAt.get(e.partition) ?? -1n }))
      .filter((e) => e.handled !== e.offset < e.committedAt);
    expect(mismatched).toEqual([]);
    // ... and it was consuming when the signal came: it had handled some of them.
    expect(events.filter((e) => handled.has(e.id)).length).toBeGreaterThan(0);
  });
});

/** This account's events on `topic` with their partitions and offsets, read up to the end offsets. */
async function readEvents(admin: Admin, topic: string, accountId: string): Promise<{ id: string; partition: number; offset: bigint }[]> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
  const kafka = new Kafka({ clientId: 'papka-test-shutdown-reader', brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-shutdown-reader-${Date.now()}` });
  const found: { id: string; partition: number; offset: bigint }[] = [];
  const pending = new Set([...ends].filter(([, o]) => o.high > o.low).map(([p]) => p));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    if (!pending.size) finish();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = BigInt(message.offset);
        const envelope = JSON.parse(message.value?.toString('utf8') ?? '{}') as EventEnvelope;
        if (envelope.accountId === accountId) found.push({ id: envelope.id, partition, offset });
        if (offset + 1n >= ends.get(partition)!.high) pending.delete(partition);
        if (!pending.size) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 60_000)))]);
    clearTimeout(timer);
    return found;
  } finally {
    await consumer.disconnect();
  }
}
