/**
 * Re-announces every contractor on papka.contractors.v1 (`contractor.snapshot`), through the
 * outbox: `node -r @swc-node/register apps/contractors/src/announce.ts` with the service's
 * DATABASE_URL. The running service's relay publishes the events.
 */
import 'reflect-metadata';
import { dataSourceCli } from '@papka/persistence';
import { entities } from './app.module';
import { loadContractorsConfig } from './config';
import { announceContractors } from './contractors/contractors.announce';
import { migrations } from './migrations';

dataSourceCli(
  'announce',
  () => ({ url: loadContractorsConfig().DATABASE_URL, entities, migrations, migrationsTableName: 'contractors_migrations' }),
  async (ds) => ({ msg: 'contractors announced', count: await announceContractors(ds) }),
);
