export * from './bus/create-event-bus';
export * from './bus/event-bus';
export * from './bus/in-process.event-bus';
export * from './bus/kafka.event-bus';
export * from './consumer/dlq-replay';
export * from './consumer/event-consumer';
export * from './inbox/inbox.entity';
export * from './migrations/messaging-tables';
export * from './nest/event-bus.transport';
export * from './nest/messaging.module';
export * from './metrics/messaging-metrics';
export * from './outbox/commands';
export * from './outbox/outbox.entity';
export * from './outbox/outbox.relay';
export * from './outbox/outbox.writer';
export * from './replicas/wait-for-replica';
export * from './trace';
export * from './tracing';

import { InboxMessage } from './inbox/inbox.entity';
import { OutboxMessage } from './outbox/outbox.entity';
/** Entities a service using the outbox/inbox registers with its data source. */
export const messagingEntities = [OutboxMessage, InboxMessage];
export * from './outbox/announce';
