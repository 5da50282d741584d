import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export interface DataSourceConfig {
  url: string;
  /* eslint-disable-next-line @typescript-eslint/no-unsafe-function-type */
  entities: MixedList<Function | string | EntitySchema>;
  /* eslint-disable-next-line @typescript-eslint/no-unsafe-function-type */
  migrations: MixedList<Function | string>;
  /** Each service keeps its own migrations table. */
  migrationsTableName: string;
  poolSize?: number;
  /** A statement running longer is cancelled by PostgreSQL (57014); 0 or unset: no limit. */
  statementTimeoutMs?: number;
  logging?: boolean;
  applicationName?: string;
}

/** Options for a service's own database: snake_case names, migrations only, never synchronize. */
export function dataSourceOptions(cfg: DataSourceConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: cfg.url,
    entities: cfg.entities,
    migrations: cfg.migrations,
    migrationsTableName: cfg.migrationsTableName,
    migrationsRun: false,
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    // Failed queries surface as errors the caller maps (409, 503); no second, console copy.
    logging: cfg.logging ? ['error', 'warn', 'migration'] : false,
    applicationName: cfg.applicationName,
    extra: {
      max: cfg.poolSize ?? 10,
      // Fail fast when PostgreSQL is down, so callers can answer 503 instead of hanging.
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      // TCP keepalive on every connection: a pooled connection to a primary that vanished
      // (failover, partition) is found dead instead of taking the next query into a hang.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      ...(cfg.statementTimeoutMs ? { statement_timeout: cfg.statementTimeoutMs } : {}),
    },
  };
}

export const createDataSource = (cfg: DataSourceConfig): DataSource => new DataSource(dataSourceOptions(cfg));
