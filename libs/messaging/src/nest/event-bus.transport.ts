import { Catch, type INestApplication, type RpcExceptionFilter } from '@nestjs/common';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { NestMicroservice } from '@nestjs/microservices/nest-microservice';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import type { EventEnvelope } from '@papka/contracts';
import type { EventBus } from '../bus/event-bus';
import { EventConsumer, type EventContext, type RetryPolicy } from '../consumer/event-consumer';
import { relayOf, type OutboxRelay } from '../outbox/outbox.relay';

export interface EventBusTransportOptions {
  bus: EventBus;
  dataSource: DataSource;
  groupId: string;
  topics: string[];
  retry?: RetryPolicy;
  /** Woken after a handler that emitted events commits; default: the relay of `dataSource`. */
  relay?: OutboxRelay;
}

/**
 * Nest transport over our event bus: handlers stay `@EventPattern('<event type>')` methods,
 * receiving `(envelope, ctx: EventContext)`, while commits, inbox, retry and DLQ are ours
 * (the stock Kafka transport blocks a partition on a poison message).
 */
export class EventBusTransport extends Server implements CustomTransportStrategy {
  private consumer: EventConsumer | null = null;

  constructor(private readonly options: EventBusTransportOptions) {
    super();
  }

  listen(callback: (err?: unknown) => void): void {
    this.consumer = new EventConsumer({
      ...this.options,
      handles: (type) => this.messageHandlers.has(type),
      onEmitted: () => this.options.relay?.kick(),
      dispatch: (envelope, ctx) => this.invoke(envelope, ctx),
      log: (level, message, extra) => this.logger[level === 'info' ? 'log' : level]?.(`${message} ${JSON.stringify(extra ?? {})}`),
    });
    this.consumer.start().then(() => callback(), callback);
  }

  private async invoke(envelope: EventEnvelope, ctx: EventContext): Promise<void> {
    const handler = this.getHandlerByPattern(envelope.type);
    if (!handler) return;
    const result: unknown = await handler(envelope, ctx);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
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
  const ms = app.connectMicroservice({ strategy: new EventBusTransport({ ...options, relay }) }, { deferInitialization: true }) as NestMicroservice;
  ms.useGlobalFilters(new EventErrorFilter());
  ms.setIsInitHookCalled(true);
}

