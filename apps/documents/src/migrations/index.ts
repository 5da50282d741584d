import { IdempotencyKeys1763700000500 } from '@papka/platform';
import { AggregateSequence1763700000700, MessagingTables1763700000000, OutboxRejected1763700000600 } from '@papka/messaging';
import { ReplicaSequence1763700000800 } from './1763700000800-replica-sequence';
import { Documents1763700000300 } from './1763700000300-documents';
import { PendingRenders1763700000900 } from './1763700000900-pending-renders';
import { StorageKeyIndex1763700001000 } from './1763700001000-storage-key-index';

export const migrations = [MessagingTables1763700000000, Documents1763700000300, IdempotencyKeys1763700000500, OutboxRejected1763700000600, AggregateSequence1763700000700, ReplicaSequence1763700000800, PendingRenders1763700000900, StorageKeyIndex1763700001000];
