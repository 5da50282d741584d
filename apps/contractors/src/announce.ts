/**
 * Re-announces every contractor (`contractor.snapshot`) and every account's organisation
 * (`organization.updated`, key = account id) on papka.contractors.v1, through the outbox:
 * `node -r @swc-node/register apps/contractors/src/announce.ts` with the service's DATABASE_URL.
 * The running service's relay publishes the events.
 */
import 'reflect-metadata';
import { announceCli } from '@papka/persistence';
import { announceContractorsAndOrganizations } from './announce-all';
import { entities } from './app.module';
import { loadContractorsConfig } from './config';
import { migrations } from './migrations';

announceCli('contractors', () => ({ url: loadContractorsConfig().DATABASE_URL, entities, migrations }), announceContractorsAndOrganizations);
