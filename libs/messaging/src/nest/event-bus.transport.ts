import { Catch, type INestApplication, type RpcExceptionFilter } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { NestMicroservice } from '@nestjs/microservices/nest-microservice';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import type { EventEnvelope } from '@papka/contracts';
import type { EventBus } from '../bus/event-bus';
import { EventConsumer, type EventConsumerOptions, type EventContext, type RetryPolicy } from '../consumer/event-consumer';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { relayOf, type OutboxRelay } from '../outbox/outbox.relay';

export interface EventBusTransportOptions {
  bus: EventBus;
  dataSource: DataSource;
  groupId: string;
  topics: string[];
  retry?: RetryPolicy;
  /** Partitions of the main topics handled at once (default MAIN_CONCURRENCY, event-consumer.ts). */
  concurrency?: number;
  /** Woken after a handler that emitted events commits; default: the relay of `dataSource`. */
  relay?: OutboxRelay;
  /** Counts retries and dead letters; default: the app's (MessagingModule with a Prometheus registry). */
  metrics?: MessagingMetrics | null;
}

/** The first wait before a consumer whose start failed is started again; it doubles up to the next. */
const START_RETRY_MS = 1_000;
const START_RETRY_MAX_MS = 30_000;

/** What EventConsumer logs when it sends a record to a retry tier / to `.dlq` (event-consumer.ts). */
export const RETRIED_MESSAGE = 'event handler failed, will retry';
export const DEAD_LETTERED_MESSAGE = 'event dead-lettered';

/**
 * The consumer's log, counting its retries and dead letters on the way: EventConsumer reports
 * them only through `log` (a test in event-bus.transport.spec.ts fails if its wording changes).
 */
export function countingLog(
  group: string,
  metrics: MessagingMetrics | null | undefined,
  log: NonNullable<EventConsumerOptions['log']>,
): NonNullable<EventConsumerOptions['log']> {
  if (!metrics) return log;
  return (level, message, extra) => {
    if (message === RETRIED_MESSAGE) metrics.retried(String(extra?.group ?? group), String(extra?.type ?? 'unknown'));
    else if (message === DEAD_LETTERED_MESSAGE) metrics.deadLettered(String(extra?.group ?? group), String(extra?.topic ?? 'unknown'));
    log(level, message, extra);
  };
}

/**
 * Nest transport over our event bus: handlers stay `@EventPattern('<event type>')` methods,
 * receiving `(envelope, ctx: EventContext)`, while commits, inbox, retry and DLQ are ours
 * (the stock Kafka transport blocks a partition on a poison message).
 */
export class EventBusTransport extends Server implements CustomTransportStrategy {
  private consumer: EventConsumer | null = null;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EventBusTransportOptions) {
    super();
  }

  /**
   * Starts the consumer. When its first start fails (the broker unreachable), the service still
   * starts: `callback` is told it is up, and the consumer is started again after 1 s, doubling up
   * to 30 s, until it is or the transport closes. Before, the error stopped the process, so a pod
   * started during a Kafka outage (a scale-out, a drain) went into a crash loop instead of
   * serving HTTP, whose requests keep their events in the outbox meanwhile.
   */
  listen(callback: (err?: unknown) => void): void {
    const consumer = this.createConsumer();
    this.consumer = consumer;
    let answered = false;
    const answer = () => {
      if (!answered) callback();
      answered = true;
    };
    const attempt = (delay: number) => {
      consumer.start().then(
        async () => {
          // Closed while it was starting: what it opened is closed again.
          if (this.consumer !== consumer) await consumer.stop();
          answer();
        },
        (err: Error) => {
          answer();
          if (this.consumer !== consumer) return;
          this.logger.error(`consumer ${this.options.groupId} could not start (${err.message}); trying again in ${delay} ms`);
          this.restartTimer = setTimeout(() => attempt(Math.min(delay * 2, START_RETRY_MAX_MS)), delay);
          this.restartTimer.unref();
        },
      );
    };
    attempt(START_RETRY_MS);
  }

  private createConsumer(): EventConsumer {
    return new EventConsumer({
      ...this.options,
      handles: (type) => this.messageHandlers.has(type),
      onEmitted: () => this.options.relay?.kick(),
      dispatch: (envelope, ctx) => this.invoke(envelope, ctx),
      log: countingLog(this.options.groupId, this.options.metrics, (level, message, extra) =>
        this.logger[level === 'info' ? 'log' : level]?.(`${message} ${JSON.stringify(extra ?? {})}`),
      ),
    });
  }

  private async invoke(envelope: EventEnvelope, ctx: EventContext): Promise<void> {
    const handler = this.getHandlerByPattern(envelope.type);
    if (!handler) return;
    const result: unknown = await handler(envelope, ctx);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }

  async close(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.stop();
  }

  on(): void {
    // No transport-level events to expose.
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }
}

/**
 * Registered by connectEventConsumer on the microservice that runs EventBusTransport: Nest's default
 * RPC filter replaces a handler's error with "Internal server error"; this one keeps the
 * original, so `.retry`/`.dlq` headers say what failed and an unreachable database is
 * recognised (and retried) instead of dead-lettered.
 */
@Catch()
export class EventErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/**
 * Adds an event consumer to an HTTP app (a hybrid app); `app.startAllMicroservices()` starts it.
 * The listeners are registered only when it starts, after EventErrorFilter: with Nest's
 * immediate registration a filter added afterwards is silently ignored (Nest warns
 * "registration must occur before initialization") and handlers' errors lose their cause.
 * The app's init hooks have run already, so the microservice must not run them again.
 */
export function connectEventConsumer(app: INestApplication, options: EventBusTransportOptions): void {
  const relay = options.relay ?? relayOf(options.dataSource);
  const metrics = options.metrics === undefined ? appMetrics(app) : options.metrics;
  metrics?.registerConsumer(options.groupId, options.topics);
  const ms = app.connectMicroservice({ strategy: new EventBusTransport({ ...options, relay, metrics }) }, { deferInitialization: true }) as NestMicroservice;
  ms.useGlobalFilters(new EventErrorFilter());
  ms.setIsInitHookCalled(true);
}

/**
 * The app's MessagingMetrics, or null (no MessagingModule, or no Prometheus registry). Through
 * ModuleRef: Nest's app proxy exits the process when `app.get` misses.
 */
function appMetrics(app: INestApplication): MessagingMetrics | null {
  try {
    return app.get(ModuleRef).get(MessagingMetrics, { strict: false }) ?? null;
  } catch {
    return null;
  }
}
