import { AggregateSequence1763700000700, MessagingTables1763700000000, OutboxRejected1763700000600 } from '@papka/messaging';
import { IdempotencyKeys1763700000500 } from '@papka/platform';
import { Finance1763800000000 } from './1763800000000-finance';
import { FinanceDocuments1764000000000 } from './1764000000000-finance-documents';
import { Billing1764100000000 } from './1764100000000-billing';
import { FinanceOrganization1764200000000 } from './1764200000000-finance-organization';
import { MappingParent1764300000000 } from './1764300000000-mapping-parent';
import { SentHash1764400000000 } from './1764400000000-sent-hash';
import { BillingProgress1764500000000 } from './1764500000000-billing-progress';
import { DmsPaidInvoices1764600000000 } from './1764600000000-dms-paid-invoices';

export const migrations = [
  MessagingTables1763700000000,
  IdempotencyKeys1763700000500,
  OutboxRejected1763700000600,
  AggregateSequence1763700000700,
  Finance1763800000000,
  FinanceDocuments1764000000000,
  Billing1764100000000,
  FinanceOrganization1764200000000,
  MappingParent1764300000000,
  SentHash1764400000000,
  BillingProgress1764500000000,
  DmsPaidInvoices1764600000000,
];
