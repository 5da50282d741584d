import type { DataSource } from 'typeorm';
import { createDataSource, type DataSourceConfig } from './data-source';
import { ensureDatabase, runMigrations } from './migrations';

/**
 * The body of a service's `migrate.ts` (run as a Kubernetes initContainer or Job): create the
 * database when asked, apply pending migrations, print what ran as one JSON line, exit 1 on error.
 */
export function migrateCli(load: () => DataSourceConfig & { createDatabase: boolean }): void {
  dataSourceCli('migrate', load, async (ds) => ({ msg: 'migrations applied', migrations: await runMigrations(ds) }));
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
