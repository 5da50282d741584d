import type { DynamicModule, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { z } from 'zod';
import { AuthModule, DEV_JWT_SECRET } from '@papka/auth';
import { MessagingModule } from '@papka/messaging';
import { dataSourceOptions, migrationsTableName, type DataSourceConfig } from '@papka/persistence';
import { authConfig, type baseEnvSchema, type dataEnvSchema } from './config';
import { loggerModule } from './http-app';
import { IdempotencyModule } from './idempotency';
import { MetricsModule } from './metrics';

export interface DataServiceOptions {
  /** e.g. `contractors`: names the migrations table, the DB application and the Kafka client. */
  service: string;
  entities: DataSourceConfig['entities'];
  migrations: DataSourceConfig['migrations'];
  /** Topics the service publishes to (created at start-up when missing). */
  topics: string[];
}

type DataServiceEnv = z.infer<typeof baseEnvSchema> & z.infer<typeof dataEnvSchema>;

/**
 * The modules every service with its own database and events imports, configured the same
 * way: structured logs, its TypeORM data source, the event bus with the outbox relay, the
 * bearer-token guard, the health checks and Prometheus metrics (metrics.ts).
 */
export function dataServiceImports(config: DataServiceEnv, o: DataServiceOptions): (DynamicModule | Type<unknown>)[] {
  return [
    loggerModule(config.LOG_LEVEL, o.service),
    MetricsModule.forRoot({ service: o.service, port: config.METRICS_PORT }),
    TypeOrmModule.forRoot({
      ...dataSourceOptions({
        url: config.DATABASE_URL,
        entities: o.entities,
        migrations: o.migrations,
        migrationsTableName: migrationsTableName(o.service),
        poolSize: config.DATABASE_POOL_SIZE,
        statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
        applicationName: `papka-${o.service}`,
      }),
      retryAttempts: 5,
      retryDelay: 2_000,
    }),
    MessagingModule.forRootAsync({
      useFactory: () => ({
        bus:
          config.EVENT_BUS === 'kafka'
            ? { kind: 'kafka', brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? `papka-${o.service}` }
            : { kind: 'memory' },
        relay: { pollIntervalMs: config.OUTBOX_POLL_MS },
        topics: o.topics,
        outboxStuckSeconds: config.OUTBOX_STUCK_SECONDS,
      }),
    }),
    AuthModule.forRootAsync({ useFactory: () => authConfig(config, DEV_JWT_SECRET) }),
    TerminusModule,
    IdempotencyModule,
  ];
}
