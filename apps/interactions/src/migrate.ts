/** One-off migration run (initContainer or Job): `node -r @swc-node/register apps/interactions/src/migrate.ts`. */
import 'reflect-metadata';
import { migrateCli } from '@papka/persistence';
import { entities } from './app.module';
import { loadInteractionsConfig } from './config';
import { migrations } from './migrations';

migrateCli('interactions', () => {
  const config = loadInteractionsConfig();
  return { url: config.DATABASE_URL, createDatabase: config.DATABASE_CREATE, entities, migrations };
});
