/**
 * Re-announces every contractor on papka.contractors.v1 (`contractor.snapshot`), through the
 * outbox: `node -r @swc-node/register apps/contractors/src/announce.ts` with the service's
 * DATABASE_URL. The running service's relay publishes the events.
 */
import 'reflect-metadata';
import { announceCli } from '@papka/persistence';
import { entities } from './app.module';
import { loadContractorsConfig } from './config';
import { announceContractors } from './contractors/contractors.announce';
import { migrations } from './migrations';

announceCli('contractors', () => ({ url: loadContractorsConfig().DATABASE_URL, entities, migrations }), announceContractors);
