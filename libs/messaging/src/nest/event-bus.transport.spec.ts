import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { dlqTopic } from '@papka/contracts';
import type { EventBus, IncomingRecord, OutgoingRecord, SubscribeOptions } from '../bus/event-bus';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { EventBusTransport } from './event-bus.transport';

/** A bus that records subscriptions and publishes, so a test hands records to the consumer itself. */
class FakeBus {
  readonly kind = 'in-process' as const;
  readonly handlers = new Map<string, SubscribeOptions['handler']>();
  readonly published: OutgoingRecord[] = [];
  async ensureTopics() {}
  async subscribe(o: SubscribeOptions) {
    this.handlers.set(o.groupId, o.handler);
    return { close: async () => undefined };
  }
  async publish(records: OutgoingRecord[]) {
    this.published.push(...records);
  }
}

/** A data source whose transaction runs the handler with an inbox that has never seen the event. */
const fakeDataSource = { transaction: async (fn: (m: unknown) => Promise<unknown>) => fn({ query: async () => [{ event_id: 'e' }] }) } as unknown as DataSource;

const record = (value: string, headers: Record<string, string> = {}): IncomingRecord => ({
  topic: 'papka.contractors.v1',
  partition: 0,
  offset: '0',
  key: 'agg',
  value: Buffer.from(value),
  headers,
  heartbeat: async () => undefined,
});

const envelope = JSON.stringify({
  id: '6a1f0c0e-8a4f-4a44-9a8a-8f6f1f0b7c11',
  type: 'contractor.created',
  version: 1,
  occurredAt: new Date().toISOString(),
  accountId: 'acc',
  aggregateId: 'agg',
  traceId: 't',
  data: {},
});

async function startTransport(maxAttempts: number) {
  const registry = new Registry();
  const metrics = new MessagingMetrics(registry, { lag: { lag: async () => [], close: async () => undefined }, stuckAfterSeconds: 60 });
  const bus = new FakeBus();
  const transport = new EventBusTransport({
    bus: bus as unknown as EventBus,
    dataSource: fakeDataSource,
    groupId: 'documents',
    topics: ['papka.contractors.v1'],
    retry: { maxAttempts, backoffMs: () => 1_000 },
    metrics,
  });
  transport.addHandler('contractor.created', async () => Promise.reject(new Error('boom')), true);
  (transport as unknown as { logger: Record<string, () => void> }).logger = { log: () => undefined, warn: () => undefined, error: () => undefined };
  await new Promise<void>((resolve, reject) => transport.listen((err?: unknown) => (err ? reject(err) : resolve())));
  const counts = async () => {
    const json = await registry.getMetricsAsJSON();
    const of = (name: string) => json.find((m) => m.name === name)!.values.map((v) => ({ labels: v.labels, value: v.value }));
    return { retried: of('papka_events_retried_total'), deadLettered: of('papka_events_dead_lettered_total') };
  };
  return { bus, transport, counts };
}

describe(`${EventBusTransport.name} metrics`, () => {
  it('counts an event sent to a retry tier (the consumer says so in its log)', async () => {
    const { bus, transport, counts } = await startTransport(3);
    await bus.handlers.get('documents')!(record(envelope));
    expect(bus.published).toHaveLength(1);
    expect(await counts()).toEqual({ retried: [{ labels: { group: 'documents', type: 'contractor.created' }, value: 1 }], deadLettered: [] });
    await transport.close();
  });

  it('counts an event sent to .dlq, by its original topic', async () => {
    const { bus, transport, counts } = await startTransport(1);
    await bus.handlers.get('documents')!(record(envelope));
    await bus.handlers.get('documents')!(record('not an envelope'));
    expect(bus.published.map((r) => r.topic)).toEqual([dlqTopic('papka.contractors.v1'), dlqTopic('papka.contractors.v1')]);
    expect(await counts()).toEqual({ retried: [], deadLettered: [{ labels: { group: 'documents', topic: 'papka.contractors.v1' }, value: 2 }] });
    await transport.close();
  });
});

describe(`${EventBusTransport.name} start`, () => {
  it('reports the service up when the broker is unreachable at start, and subscribes once it answers', async () => {
    const bus = new FakeBus();
    let refusals = 2;
    bus.ensureTopics = async () => {
      if (refusals-- > 0) throw new Error('KafkaJSConnectionError: connect ECONNREFUSED');
    };
    const errors: string[] = [];
    const transport = new EventBusTransport({ bus: bus as unknown as EventBus, dataSource: fakeDataSource, groupId: 'documents', topics: ['papka.contractors.v1'], metrics: null });
    (transport as unknown as { logger: Record<string, (m: string) => void> }).logger = { log: () => undefined, warn: () => undefined, error: (m) => void errors.push(m) };
    try {
      // The first start failed, and the service is told it is up anyway (it serves HTTP).
      await new Promise<void>((resolve, reject) => transport.listen((err?: unknown) => (err ? reject(err) : resolve())));
      expect(bus.handlers.size).toBe(0);
      expect(errors[0]).toMatch(/consumer documents could not start \(KafkaJSConnectionError.*\); trying again in 1000 ms/);
      // Tried again (1 s, then 2 s) until the broker answers: then every group is subscribed.
      const until = Date.now() + 10_000;
      while (!bus.handlers.has('documents') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(bus.handlers.has('documents')).toBe(true);
      expect(errors).toHaveLength(2);
    } finally {
      await transport.close();
    }
  }, 15_000);

  it('stops trying once closed', async () => {
    const bus = new FakeBus();
    let attempts = 0;
    bus.ensureTopics = async () => {
      attempts++;
      throw new Error('KafkaJSConnectionError');
    };
    const transport = new EventBusTransport({ bus: bus as unknown as EventBus, dataSource: fakeDataSource, groupId: 'documents', topics: ['t'], metrics: null });
    (transport as unknown as { logger: Record<string, () => void> }).logger = { log: () => undefined, warn: () => undefined, error: () => undefined };
    await new Promise<void>((resolve) => transport.listen(() => resolve()));
    await transport.close();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(attempts).toBe(1);
  });
});
