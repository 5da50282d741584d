/** One-off migration run (initContainer or Job): `node -r @swc-node/register apps/documents/src/migrate.ts`. */
import 'reflect-metadata';
import { migrateCli } from '@papka/persistence';
import { entities } from './app.module';
import { loadDocumentsConfig } from './config';
import { migrations } from './migrations';

migrateCli('documents', () => {
  const config = loadDocumentsConfig();
  return { url: config.DATABASE_URL, createDatabase: config.DATABASE_CREATE, entities, migrations };
});
