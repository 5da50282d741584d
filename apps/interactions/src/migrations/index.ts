import { AggregateSequence1763700000700, MessagingTables1763700000000, OutboxRejected1763700000600 } from '@papka/messaging';
import { IdempotencyKeys1763700000500 } from '@papka/platform';
import { ReplicaSequence1763700000800 } from './1763700000800-replica-sequence';
import { Interactions1763700000400 } from './1763700000400-interactions';
import { InteractionPaymentTotals1763700000750 } from './1763700000750-interaction-payment-totals';
import { PaymentImports1763800000100 } from './1763800000100-payment-imports';

export const migrations = [MessagingTables1763700000000, Interactions1763700000400, IdempotencyKeys1763700000500, OutboxRejected1763700000600, AggregateSequence1763700000700, InteractionPaymentTotals1763700000750, ReplicaSequence1763700000800, PaymentImports1763800000100];
