import { MessagingTables1763700000000, OutboxRejected1763700000600 } from '@papka/messaging';
import { IdempotencyKeys1763700000500 } from '@papka/platform';
import { Interactions1763700000400 } from './1763700000400-interactions';

export const migrations = [MessagingTables1763700000000, Interactions1763700000400, IdempotencyKeys1763700000500, OutboxRejected1763700000600];
