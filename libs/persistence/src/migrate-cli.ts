import { createDataSource, type DataSourceConfig } from './data-source';
import { ensureDatabase, runMigrations } from './migrations';

/**
 * The body of a service's `migrate.ts` (run as a Kubernetes initContainer or Job): create the
 * database when asked, apply pending migrations, print what ran as one JSON line, exit 1 on error.
 */
export function migrateCli(load: () => DataSourceConfig & { createDatabase: boolean }): void {
  const main = async () => {
    const { createDatabase, ...cfg } = load();
    if (createDatabase) await ensureDatabase(cfg.url);
    const ds = createDataSource(cfg);
    await ds.initialize();
    try {
      const done = await runMigrations(ds);
      process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'migrations applied', migrations: done })}\n`);
    } finally {
      await ds.destroy();
    }
  };
  main().catch((err: Error) => {
    process.stderr.write(`migrate: ${err.message}\n`);
    process.exit(1);
  });
}
