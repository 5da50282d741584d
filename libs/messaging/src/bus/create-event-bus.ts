import type { EventBus } from './event-bus';
import { InProcessEventBus } from './in-process.event-bus';
import { KafkaEventBus, type KafkaBusOptions } from './kafka.event-bus';

export type EventBusConfig =
  | { kind: 'kafka'; brokers: string[]; clientId: string; log?: KafkaBusOptions['log'] }
  | { kind: 'memory' };

/** Kafka in the distributed setup; the process-wide in-process bus in embedded mode. */
export const createEventBus = (cfg: EventBusConfig): EventBus =>
  cfg.kind === 'kafka'
    ? new KafkaEventBus({ brokers: cfg.brokers, clientId: cfg.clientId, log: cfg.log })
    : InProcessEventBus.shared();
