import type { DataSource } from 'typeorm';
import type { EventEnvelope } from '@papka/contracts';
import type { EventBus, IncomingRecord, OutgoingRecord, SubscribeOptions } from '../bus/event-bus';
import { InProcessEventBus } from '../bus/in-process.event-bus';
import { EventConsumer, FailureHeaders } from './event-consumer';

/** A data source whose inbox always takes the event (no database). */
const dataSource = { transaction: async (fn: (m: unknown) => Promise<void>) => fn({ query: async () => [{ event_id: 'e' }] }) } as unknown as DataSource;

const envelope: EventEnvelope = {
  id: 'e-1',
  type: 'thing.changed',
  version: 1,
  occurredAt: new Date().toISOString(),
  accountId: 'acc',
  aggregateId: 'agg-1',
  traceId: 't',
  data: {},
};

const until = async (check: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** An in-process bus that also keeps every record published through it. */
function recordingBus(): { bus: InProcessEventBus; published: OutgoingRecord[] } {
  const bus = new InProcessEventBus(5);
  const published: OutgoingRecord[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = async (records) => {
    published.push(...records);
    return publish(records);
  };
  return { bus, published };
}

/** The retry record written after the first attempt failed with back-off `delayMs`. */
async function firstRetry(delayMs: number): Promise<OutgoingRecord> {
  const { bus, published } = recordingBus();
  const consumer = new EventConsumer({
    bus,
    dataSource,
    groupId: 'g',
    topics: ['papka.t.v1'],
    handles: () => true,
    retry: { maxAttempts: 3, backoffMs: () => delayMs },
    dispatch: async () => {
      throw new Error('boom');
    },
  });
  await consumer.start();
  await bus.publish([{ topic: 'papka.t.v1', key: 'agg-1', value: JSON.stringify(envelope) }]);
  await until(() => published.some((r) => r.topic.includes('.retry')));
  await consumer.stop();
  await bus.close();
  return published.find((r) => r.topic.includes('.retry'))!;
}

describe(EventConsumer.name, () => {
  it('puts a retry on the tier of its back-off, rounded up to the next tier, due after the tier delay', async () => {
    const before = Date.now();
    const r = await firstRetry(10_000);
    expect(r.topic).toBe('papka.t.v1.retry.15s');
    expect(r.key).toBe('agg-1');
    expect(Number(r.headers![FailureHeaders.notBefore]) - before).toBeGreaterThanOrEqual(15_000);
    expect(r.headers![FailureHeaders.dueAt]).toBeUndefined();
    expect(r.headers).toMatchObject({ [FailureHeaders.attempts]: '1', [FailureHeaders.consumerGroup]: 'g', [FailureHeaders.originalTopic]: 'papka.t.v1' });
  });

  it('sends a back-off longer than the last tier through the last tier, with the real due time', async () => {
    const before = Date.now();
    const r = await firstRetry(3_600_000);
    expect(r.topic).toBe('papka.t.v1.retry.300s');
    expect(Number(r.headers![FailureHeaders.notBefore]) - before).toBeGreaterThanOrEqual(300_000);
    expect(Number(r.headers![FailureHeaders.dueAt]) - before).toBeGreaterThanOrEqual(3_600_000);
  });
});

describe(`${EventConsumer.name} transactions shared by a run of records`, () => {
  /** A data source that keeps the inbox ids of each committed transaction and of each rolled-back one. */
  function recordingDataSource(commitFails: (ids: string[]) => boolean = () => false) {
    const committed: string[][] = [];
    const rolledBack: string[][] = [];
    const ds = {
      transaction: async (fn: (m: unknown) => Promise<void>) => {
        const ids: string[] = [];
        const manager = {
          query: async (sql: string, params: string[]) => {
            if (sql.includes('INSERT INTO inbox')) ids.push(params[1]!);
            return [{ event_id: params[1] }];
          },
        };
        try {
          await fn(manager);
        } catch (err) {
          rolledBack.push(ids);
          throw err;
        }
        if (commitFails(ids)) {
          rolledBack.push(ids);
          throw new Error('could not serialize access');
        }
        committed.push(ids);
      },
    } as unknown as DataSource;
    return { ds, committed, rolledBack };
  }

  const named = (name: string): EventEnvelope => ({ ...envelope, id: name, aggregateId: `agg-${name}`, data: { name } });

  it('applies the records before a failing one again without it, and sends only that one to its retry tier, its handler run once', async () => {
    const { bus, published } = recordingBus();
    const { ds, committed, rolledBack } = recordingDataSource();
    const calls: string[] = [];
    const consumer = new EventConsumer({
      bus,
      dataSource: ds,
      groupId: 'g',
      topics: ['papka.t.v1'],
      handles: () => true,
      retry: { maxAttempts: 3, backoffMs: () => 1_000 },
      dispatch: async (e) => {
        const { name } = e.data as { name: string };
        calls.push(name);
        if (name === 'bad') throw new Error('bad cannot be applied');
      },
    });
    await consumer.start();
    // One publish: the consumer gets the five as one run.
    await bus.publish(['a', 'b', 'bad', 'c', 'd'].map((n) => ({ topic: 'papka.t.v1', key: `agg-${n}`, value: JSON.stringify(named(n)) })));
    await until(() => committed.flat().includes('d'));
    await consumer.stop();
    await bus.close();

    expect(rolledBack).toEqual([['a', 'b', 'bad']]);
    expect(committed).toEqual([['a', 'b'], ['c', 'd']]);
    expect(calls).toEqual(['a', 'b', 'bad', 'a', 'b', 'c', 'd']);
    const retries = published.filter((r) => r.topic.includes('.retry'));
    expect(retries.map((r) => [r.topic, (JSON.parse(r.value) as EventEnvelope).id, r.headers![FailureHeaders.attempts], r.headers![FailureHeaders.error]])).toEqual([
      ['papka.t.v1.retry.1s', 'bad', '1', 'bad cannot be applied'],
    ]);
  });

  it('replays a transaction that cannot commit one record at a time, so only the record that cannot commit is retried', async () => {
    const { bus, published } = recordingBus();
    const { ds, committed } = recordingDataSource((ids) => ids.includes('x'));
    const consumer = new EventConsumer({ bus, dataSource: ds, groupId: 'g', topics: ['papka.t.v1'], handles: () => true, dispatch: async () => undefined });
    await consumer.start();
    await bus.publish(['a', 'x', 'b'].map((n) => ({ topic: 'papka.t.v1', key: `agg-${n}`, value: JSON.stringify(named(n)) })));
    await until(() => committed.flat().includes('b'));
    await consumer.stop();
    await bus.close();

    expect(committed).toEqual([['a'], ['b']]);
    expect(published.filter((r) => r.topic.includes('.retry')).map((r) => (JSON.parse(r.value) as EventEnvelope).id)).toEqual(['x']);
  });

  /** A Kafka-like bus whose batch handler the test calls itself, with records of its own. */
  function manualBus() {
    const published: OutgoingRecord[] = [];
    let main: SubscribeOptions | undefined;
    const bus = {
      kind: 'kafka',
      publish: async (r: OutgoingRecord[]) => void published.push(...r),
      ensureTopics: async () => undefined,
      subscribe: async (o: SubscribeOptions) => {
        if (o.batchHandler) main = o;
        return { close: async () => undefined };
      },
    } as unknown as EventBus;
    const run = (records: IncomingRecord[], done: (r: IncomingRecord) => void) => main!.batchHandler!(records, done);
    return { bus, published, run };
  }
  const incoming = (names: string[], heartbeat: () => Promise<void> = async () => undefined): IncomingRecord[] =>
    names.map((n, i) => ({ topic: 'papka.t.v1', partition: 0, offset: String(i), key: `agg-${n}`, headers: {}, value: Buffer.from(JSON.stringify(named(n))), heartbeat }));

  it("stops the run uncommitted when a handler's heartbeat fails (the group is rebalancing): nothing goes to a retry tier", async () => {
    const { bus, published, run } = manualBus();
    const { ds, committed } = recordingDataSource();
    const consumer = new EventConsumer({ bus, dataSource: ds, groupId: 'g', topics: ['papka.t.v1'], handles: () => true, dispatch: async (_e, ctx) => ctx.heartbeat() });
    await consumer.start();
    const rebalancing = Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { name: 'KafkaJSProtocolError', type: 'REBALANCE_IN_PROGRESS', retriable: true });
    const done: string[] = [];
    const records = incoming(['a', 'b', 'c'], async () => {
      throw rebalancing;
    });
    // The error goes up as kafkajs threw it (it rejoins the group on it); no record is done.
    await expect(run(records, (r) => done.push(r.offset))).rejects.toBe(rebalancing);
    expect(published).toEqual([]);
    expect(committed).toEqual([]);
    expect(done).toEqual([]);
    // A handler's own error still fails its record.
    const failing = new EventConsumer({ bus, dataSource: ds, groupId: 'g2', topics: ['papka.t.v1'], handles: () => true, dispatch: async () => { throw new Error('boom'); } });
    await failing.start();
    await run(incoming(['d']), () => undefined);
    expect(published.map((r) => r.headers![FailureHeaders.error])).toEqual(['boom']);
  });

  it('a commit that fails while a later record is known to fail replays one record per transaction: only the one that cannot commit is retried', async () => {
    const { bus, published, run } = manualBus();
    const { ds, committed } = recordingDataSource((ids) => ids.includes('c'));
    const consumer = new EventConsumer({
      bus,
      dataSource: ds,
      groupId: 'g',
      topics: ['papka.t.v1'],
      handles: () => true,
      dispatch: async (e) => {
        if (e.id === 'd') throw new Error('d fails');
      },
    });
    await consumer.start();
    await run(incoming(['a', 'b', 'c', 'd', 'e']), () => undefined);
    expect(published.map((r) => [(JSON.parse(r.value) as EventEnvelope).id, r.headers![FailureHeaders.error]])).toEqual([
      ['c', 'could not serialize access'],
      ['d', 'd fails'],
    ]);
    expect(committed.flat()).toEqual(['a', 'b', 'e']);
  });
});
