import {
  Inject,
  Injectable,
  Logger,
  Module,
  Optional,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Registry } from 'prom-client';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EVENT_BUS, type EventBus } from '../bus/event-bus';
import { createEventBus, type EventBusConfig } from '../bus/create-event-bus';
import { Commands } from '../outbox/commands';
import { OutboxRelay, type OutboxRelayOptions } from '../outbox/outbox.relay';
import {
  DEFAULT_OUTBOX_STUCK_SECONDS,
  InProcessLagSource,
  KafkaLagSource,
  MessagingMetrics,
  outboxStuck,
} from '../metrics/messaging-metrics';

export interface MessagingModuleOptions {
  bus: EventBusConfig;
  relay?: OutboxRelayOptions;
  /** Topics this service publishes to, created at start-up when missing. */
  topics?: string[];
  /** Outbox rows older than this are reported `degraded` (health details, `papka_outbox_stuck`); default 60. */
  outboxStuckSeconds?: number;
}

const OPTIONS = Symbol('MESSAGING_OPTIONS');

@Injectable()
class MessagingLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Messaging');

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly relay: OutboxRelay,
    @Inject(OPTIONS) private readonly options: MessagingModuleOptions,
    @Optional() @Inject(MessagingMetrics) private readonly metrics: MessagingMetrics | null = null,
  ) {}

  onApplicationBootstrap(): void {
    // Topic creation must not block start-up while the broker is down: the relay keeps the
    // events and Kafka's auto-creation covers the rest.
    this.bus.ensureTopics(this.options.topics ?? []).catch((err: Error) => {
      this.logger.warn(`could not ensure topics yet: ${err.message}`);
    });
    this.relay.start();
  }

  /**
   * After Nest has closed the HTTP server and the consumers (both happen between
   * beforeApplicationShutdown and this hook): requests and handlers that were still running
   * have written their events, the relay publishes what it has, and only then does the bus go.
   * Closing the bus first would leave a consumer waiting on a retry's due time (up to 300 s)
   * holding the shutdown until the pod is killed.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.bus.close();
    await this.metrics?.close();
  }
}

/** Health of the event bus for /health/ready. */
@Injectable()
export class EventBusHealthIndicator {
  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly relay: OutboxRelay,
    private readonly health: HealthIndicatorService,
    @Optional() @Inject(OPTIONS) private readonly options: MessagingModuleOptions | null = null,
  ) {}

  /**
   * Reported, never failing: while the broker is down the outbox keeps events and the
   * service still serves requests, so readiness must not take it out of rotation.
   */
  async check(key = 'eventBus') {
    const indicator = this.health.check(key);
    const [up, backlog] = await Promise.all([this.bus.ping(), this.relay.backlog().catch(() => null)]);
    const stuckAfterSeconds = this.options?.outboxStuckSeconds ?? DEFAULT_OUTBOX_STUCK_SECONDS;
    // A consumer the broker stopped reads nothing until the bus has started it again. Still up:
    // the service answers requests, and leaving rotation would not bring the consumer back.
    const stopped = this.bus.subscriptionStates().filter((s) => !s.running);
    return indicator.up({
      consumers: stopped.length > 0 ? 'degraded' : 'ok',
      ...(stopped.length > 0 ? { consumersStopped: stopped.map((s) => ({ groupId: s.groupId, error: s.lastError })) } : {}),
      // `degraded`: rows older than OUTBOX_STUCK_SECONDS wait for the broker. Still up: the
      // outbox keeps them, and taking the pod out of rotation would not publish them sooner.
      outbox: backlog === null ? 'unknown' : outboxStuck(backlog, stuckAfterSeconds) ? 'degraded' : 'ok',
      outboxStuckSeconds: stuckAfterSeconds,
      kind: this.bus.kind,
      broker: up ? 'up' : 'down',
      outboxPending: backlog?.pending ?? -1,
      outboxOldestSeconds: backlog?.oldestSeconds ?? -1,
      // Rows the broker refused for good: they need an operator (see the relay's error log).
      outboxRejected: backlog?.rejected ?? -1,
    });
  }
}

@Module({})
export class MessagingModule {
  static forRootAsync(o: {
    inject?: unknown[];
    useFactory: (...args: never[]) => MessagingModuleOptions;
  }): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [TerminusModule],
      providers: [
        { provide: OPTIONS, useFactory: o.useFactory, inject: (o.inject ?? []) as never[] },
        {
          provide: EVENT_BUS,
          useFactory: (opts: MessagingModuleOptions) => createEventBus(opts.bus),
          inject: [OPTIONS],
        },
        {
          provide: OutboxRelay,
          useFactory: (ds: DataSource, bus: EventBus, opts: MessagingModuleOptions) => {
            const logger = new Logger('OutboxRelay');
            return new OutboxRelay(ds, bus, {
              ...opts.relay,
              log: (level, message, extra) =>
                logger[level === 'info' ? 'log' : level](`${message}${extra ? ` ${JSON.stringify(extra)}` : ''}`),
            });
          },
          inject: [getDataSourceToken(), EVENT_BUS, OPTIONS],
        },
        {
          provide: Commands,
          useFactory: (ds: DataSource, relay: OutboxRelay) => new Commands(ds, relay),
          inject: [getDataSourceToken(), OutboxRelay],
        },
        {
          // The service's Prometheus registry (MetricsModule of @papka/platform), when it has one.
          provide: MessagingMetrics,
          useFactory: (opts: MessagingModuleOptions, relay: OutboxRelay, registry: Registry | undefined) =>
            registry
              ? new MessagingMetrics(registry, {
                  outbox: relay,
                  lag: opts.bus.kind === 'kafka' ? new KafkaLagSource({ brokers: opts.bus.brokers, clientId: opts.bus.clientId }) : new InProcessLagSource(),
                  stuckAfterSeconds: opts.outboxStuckSeconds ?? DEFAULT_OUTBOX_STUCK_SECONDS,
                })
              : null,
          inject: [OPTIONS, OutboxRelay, { token: Registry, optional: true }],
        },
        MessagingLifecycle,
        EventBusHealthIndicator,
      ],
      exports: [EVENT_BUS, OutboxRelay, Commands, EventBusHealthIndicator, MessagingMetrics],
    };
  }
}
