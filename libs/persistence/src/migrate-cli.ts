import type { DataSource } from 'typeorm';
import { createDataSource, type DataSourceConfig } from './data-source';
import { ensureDatabase, runMigrations } from './migrations';

/** Each service's own migrations table: `contractors_migrations`, `finance_sync_migrations`. */
export const migrationsTableName = (service: string): string => `${service.replace(/-/g, '_')}_migrations`;

/** A service's database as its CLIs open it; the migrations table follows from the service name. */
export type ServiceDataSourceConfig = Omit<DataSourceConfig, 'migrationsTableName'>;

/**
 * The body of a service's `migrate.ts` (run as a Kubernetes initContainer or Job): create the
 * database when asked, apply pending migrations, print what ran as one JSON line, exit 1 on error.
 */
export function migrateCli(service: string, load: () => ServiceDataSourceConfig & { createDatabase: boolean }): void {
  dataSourceCli('migrate', () => ({ ...load(), migrationsTableName: migrationsTableName(service) }), async (ds) => ({
    msg: 'migrations applied',
    migrations: await runMigrations(ds),
  }));
}

/**
 * The body of a service's `announce.ts`: `announce` writes a snapshot event of every aggregate
 * into the outbox and says how many; prints `{ msg: "<service> announced", count }`.
 */
export function announceCli(service: string, load: () => ServiceDataSourceConfig, announce: (ds: DataSource) => Promise<number>): void {
  dataSourceCli('announce', () => ({ ...load(), migrationsTableName: migrationsTableName(service) }), async (ds) => ({
    msg: `${service} announced`,
    count: await announce(ds),
  }));
}

/**
 * A one-off command against a service's database: opens the data source, runs `task`, prints
 * its result as one JSON log line, closes, exits 1 on error (with the command's name).
 */
export function dataSourceCli(
  name: string,
  load: () => DataSourceConfig & { createDatabase?: boolean },
  task: (ds: DataSource) => Promise<{ msg: string } & Record<string, unknown>>,
): void {
  const main = async () => {
    const { createDatabase, ...cfg } = load();
    if (createDatabase) await ensureDatabase(cfg.url);
    const ds = createDataSource(cfg);
    await ds.initialize();
    try {
      process.stdout.write(`${JSON.stringify({ level: 'info', ...(await task(ds)) })}\n`);
    } finally {
      await ds.destroy();
    }
  };
  main().catch((err: Error) => {
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exit(1);
  });
}
