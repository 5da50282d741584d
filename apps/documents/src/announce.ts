/**
 * Re-announces every document on papka.documents.v1 (`document.snapshot`), through the
 * outbox: `node -r @swc-node/register apps/documents/src/announce.ts` with the service's
 * DATABASE_URL. The running service's relay publishes the events.
 */
import 'reflect-metadata';
import { announceCli } from '@papka/persistence';
import { entities } from './app.module';
import { loadDocumentsConfig } from './config';
import { announceDocuments } from './documents/documents.announce';
import { migrations } from './migrations';

announceCli('documents', () => ({ url: loadDocumentsConfig().DATABASE_URL, entities, migrations }), announceDocuments);
