/** One-off migration run (Kubernetes Job): `node -r @swc-node/register apps/documents/src/migrate.ts`. */
import 'reflect-metadata';
import { createDataSource, ensureDatabase, runMigrations } from '@papka/persistence';
import { entities } from './app.module';
import { loadDocumentsConfig } from './config';
import { migrations } from './migrations';

async function main(): Promise<void> {
  const config = loadDocumentsConfig();
  if (config.DATABASE_CREATE === 'true') await ensureDatabase(config.DATABASE_URL);
  const ds = createDataSource({ url: config.DATABASE_URL, entities, migrations, migrationsTableName: 'documents_migrations' });
  await ds.initialize();
  try {
    const done = await runMigrations(ds);
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'migrations applied', migrations: done })}\n`);
  } finally {
    await ds.destroy();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`migrate: ${err.message}\n`);
  process.exit(1);
});
