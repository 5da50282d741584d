/** One-off migration run (initContainer or Job): `node -r @swc-node/register apps/finance-sync/src/migrate.ts`. */
import 'reflect-metadata';
import { migrateCli } from '@papka/persistence';
import { entities } from './app.module';
import { loadFinanceSyncConfig } from './config';
import { migrations } from './migrations';

migrateCli('finance-sync', () => {
  const config = loadFinanceSyncConfig();
  return { url: config.DATABASE_URL, createDatabase: config.DATABASE_CREATE, entities, migrations };
});
