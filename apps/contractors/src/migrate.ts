/** One-off migration run (initContainer or Job): `node -r @swc-node/register apps/contractors/src/migrate.ts`. */
import 'reflect-metadata';
import { migrateCli } from '@papka/persistence';
import { entities } from './app.module';
import { loadContractorsConfig } from './config';
import { migrations } from './migrations';

migrateCli('contractors', () => {
  const config = loadContractorsConfig();
  return { url: config.DATABASE_URL, createDatabase: config.DATABASE_CREATE, entities, migrations };
});
