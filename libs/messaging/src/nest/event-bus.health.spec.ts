import { HealthIndicatorService } from '@nestjs/terminus';
import type { EventBus, SubscriptionState } from '../bus/event-bus';
import type { OutboxBacklog, OutboxRelay } from '../outbox/outbox.relay';
import { EventBusHealthIndicator } from './messaging.module';

const indicator = (backlog: OutboxBacklog | null, outboxStuckSeconds?: number, states: SubscriptionState[] = []) =>
  new EventBusHealthIndicator(
    { kind: 'kafka', ping: async () => true, subscriptionStates: () => states } as unknown as EventBus,
    { backlog: async () => (backlog ? backlog : Promise.reject(new Error('db down'))) } as unknown as OutboxRelay,
    new HealthIndicatorService(),
    { bus: { kind: 'memory' }, outboxStuckSeconds },
  );

describe(EventBusHealthIndicator.name, () => {
  it('reports an outbox whose oldest row is older than OUTBOX_STUCK_SECONDS as degraded, and stays up', async () => {
    const result = await indicator({ pending: 4, oldestSeconds: 120, rejected: 0 }, 60).check();
    expect(result.eventBus).toMatchObject({ status: 'up', outbox: 'degraded', outboxStuckSeconds: 60, outboxPending: 4, outboxOldestSeconds: 120 });
  });

  it('reports ok below the threshold (default 60 s) and unknown when the backlog cannot be read', async () => {
    expect((await indicator({ pending: 4, oldestSeconds: 30, rejected: 0 }).check()).eventBus).toMatchObject({ status: 'up', outbox: 'ok', outboxStuckSeconds: 60 });
    expect((await indicator(null).check()).eventBus).toMatchObject({ status: 'up', outbox: 'unknown' });
  });

  it('reports a consumer the broker stopped as degraded, with its group and reason, and stays up', async () => {
    const states: SubscriptionState[] = [
      { groupId: 'documents', running: true, crashes: 0, lastError: null },
      { groupId: 'documents.retry.5s', running: false, crashes: 2, lastError: 'KafkaJSProtocolError: group full' },
    ];
    const ok = { pending: 0, oldestSeconds: 0, rejected: 0 };
    expect((await indicator(ok, 60, states).check()).eventBus).toMatchObject({
      status: 'up',
      consumers: 'degraded',
      consumersStopped: [{ groupId: 'documents.retry.5s', error: 'KafkaJSProtocolError: group full' }],
    });
    const healthy = (await indicator(ok, 60, states.slice(0, 1)).check()).eventBus;
    expect(healthy).toMatchObject({ status: 'up', consumers: 'ok' });
    expect(healthy).not.toHaveProperty('consumersStopped');
  });
});
