import { IdempotencyKeys1763700000500 } from '@papka/platform';
import { AggregateSequence1763700000700, MessagingTables1763700000000, OutboxRejected1763700000600 } from '@papka/messaging';
import { Contractors1763700000100 } from './1763700000100-contractors';
import { Organization1763700000200 } from './1763700000200-organization';
import { OrganizationVat1763700000800 } from './1763700000800-organization-vat';
import { LookupNotFoundRetry1763700000900 } from './1763700000900-lookup-not-found-retry';
import { LookupQueueIndex1763700001000 } from './1763700001000-lookup-queue-index';

/** In order. The messaging tables (outbox, inbox) come first. */
export const migrations = [MessagingTables1763700000000, Contractors1763700000100, Organization1763700000200, IdempotencyKeys1763700000500, OutboxRejected1763700000600, AggregateSequence1763700000700, OrganizationVat1763700000800, LookupNotFoundRetry1763700000900, LookupQueueIndex1763700001000];
