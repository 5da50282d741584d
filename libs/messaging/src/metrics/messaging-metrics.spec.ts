import { Registry } from 'prom-client';
import { RETRY_TIERS_MS } from '@papka/contracts';
import type { OutboxBacklog } from '../outbox/outbox.relay';
import { consumerGroupsOf, InProcessLagSource, MessagingMetrics, outboxStuck, type LagSource, type PartitionLag } from './messaging-metrics';

/** `name{labels} value` lines of a registry, label order ignored. */
async function values(registry: Registry, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

const fakeRelay = (backlog: OutboxBacklog | Error) => {
  const relay = { calls: 0, backlog: async () => (relay.calls++, backlog instanceof Error ? Promise.reject(backlog) : backlog) };
  return relay;
};

class FakeLag implements LagSource {
  calls = 0;
  seen: string[] = [];
  constructor(public result: PartitionLag[] | Error) {}
  async lag(groups: { group: string }[]) {
    this.calls++;
    this.seen = groups.map((g) => g.group);
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }
  async close() {}
}

describe(MessagingMetrics.name, () => {
  it('reports the outbox backlog from the relay: pending, oldest age, refused rows and stuck', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'contractors' });
    new MessagingMetrics(registry, { outbox: fakeRelay({ pending: 7, oldestSeconds: 95, rejected: 2 }), lag: new FakeLag([]), stuckAfterSeconds: 60 });
    const text = await registry.metrics();
    expect(text).toMatch(/^papka_outbox_pending\{service="contractors"\} 7$/m);
    expect(text).toMatch(/^papka_outbox_oldest_age_seconds\{service="contractors"\} 95$/m);
    expect(text).toMatch(/^papka_outbox_rejected\{service="contractors"\} 2$/m);
    expect(text).toMatch(/^papka_outbox_stuck\{service="contractors"\} 1$/m);
  });

  it('is not stuck while the oldest row is younger than the threshold, nor with an empty outbox', async () => {
    const young = new Registry();
    new MessagingMetrics(young, { outbox: fakeRelay({ pending: 3, oldestSeconds: 10, rejected: 0 }), lag: new FakeLag([]), stuckAfterSeconds: 60 });
    expect(await values(young, 'papka_outbox_stuck')).toEqual([{ labels: {}, value: 0 }]);
    expect(outboxStuck({ pending: 0, oldestSeconds: 0, rejected: 5 }, 60)).toBe(false);
    expect(outboxStuck({ pending: 1, oldestSeconds: 61, rejected: 0 }, 60)).toBe(true);
  });

  it('asks the outbox once for all four gauges of a scrape', async () => {
    const registry = new Registry();
    const relay = fakeRelay({ pending: 1, oldestSeconds: 1, rejected: 0 });
    new MessagingMetrics(registry, { outbox: relay, lag: new FakeLag([]), stuckAfterSeconds: 60 });
    await registry.metrics();
    expect(relay.calls).toBe(1);
  });

  it('keeps the scrape answering when the database is down', async () => {
    const registry = new Registry();
    new MessagingMetrics(registry, { outbox: fakeRelay(new Error('ECONNREFUSED')), lag: new FakeLag(new Error('broker down')), stuckAfterSeconds: 60 });
    await expect(registry.metrics()).resolves.toContain('papka_outbox_pending');
  });

  it('reports consumer lag per group, topic and partition, cached between scrapes', async () => {
    const registry = new Registry();
    const lag = new FakeLag([
      { group: 'documents', topic: 'papka.contractors.v1', partition: 0, lag: 0 },
      { group: 'documents', topic: 'papka.contractors.v1', partition: 2, lag: 12 },
    ]);
    const metrics = new MessagingMetrics(registry, { lag, stuckAfterSeconds: 60, lagCacheMs: 60_000 });
    metrics.registerConsumer('documents', ['papka.contractors.v1']);
    expect(await values(registry, 'papka_consumer_lag')).toEqual([
      { labels: { group: 'documents', topic: 'papka.contractors.v1', partition: '0' }, value: 0 },
      { labels: { group: 'documents', topic: 'papka.contractors.v1', partition: '2' }, value: 12 },
    ]);
    await registry.metrics();
    expect(lag.calls).toBe(1);
    // the main group, each retry tier's group and the legacy .retry group
    expect(lag.seen).toEqual(['documents', ...RETRY_TIERS_MS.map((t) => `documents.retry.${t / 1000}s`), 'documents.retry']);
  });

  it('counts retries and dead letters by group', async () => {
    const registry = new Registry();
    const metrics = new MessagingMetrics(registry, { lag: new FakeLag([]), stuckAfterSeconds: 60 });
    metrics.retried('documents', 'contractor.created');
    metrics.retried('documents', 'contractor.created');
    metrics.deadLettered('documents', 'papka.contractors.v1');
    expect(await values(registry, 'papka_events_retried_total')).toEqual([{ labels: { group: 'documents', type: 'contractor.created' }, value: 2 }]);
    expect(await values(registry, 'papka_events_dead_lettered_total')).toEqual([{ labels: { group: 'documents', topic: 'papka.contractors.v1' }, value: 1 }]);
  });
});

describe(InProcessLagSource.name, () => {
  it('reports 0 for every group and topic (records are handled as they are published)', async () => {
    expect(await new InProcessLagSource().lag(consumerGroupsOf('g', ['t']).slice(0, 1))).toEqual([{ group: 'g', topic: 't', partition: 0, lag: 0 }]);
  });
});

describe('MessagingMetrics without consumers, or with a slow broker', () => {
  it('does not ask the broker when the service consumes nothing', async () => {
    const registry = new Registry();
    const lag = new FakeLag([]);
    new MessagingMetrics(registry, { lag, stuckAfterSeconds: 60 });
    await registry.metrics();
    expect(lag.calls).toBe(0);
  });

  it('answers the scrape within lagTimeoutMs when the broker hangs', async () => {
    const registry = new Registry();
    const hanging: LagSource = { lag: () => new Promise(() => undefined), close: async () => undefined };
    const metrics = new MessagingMetrics(registry, { lag: hanging, stuckAfterSeconds: 60, lagTimeoutMs: 50 });
    metrics.registerConsumer('g', ['t']);
    const started = Date.now();
    await registry.metrics();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
