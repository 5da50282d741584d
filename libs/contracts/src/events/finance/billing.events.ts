import { Topics } from '../../topics';
import { defineEvent } from '../envelope';

/** 001's document types and statuses. */
export const BILLING_DOCUMENT_TYPES = ['BILL', 'EXPENSE', 'REPORT', 'PAYMENT'] as const;
export type BillingDocumentType = (typeof BILLING_DOCUMENT_TYPES)[number];
export const BILLING_DOCUMENT_STATUSES = ['NEW', 'AWAITING_PAYMENT', 'PARTIALLY_PAID', 'PAID', 'EXPIRED'] as const;
export type BillingDocumentStatus = (typeof BILLING_DOCUMENT_STATUSES)[number];

/** A line of a billing document; money in kopecks, `amount` (a quantity) as the billing gave it. */
export interface BillingDocumentItem {
  num: number;
  title: string | null;
  description: string | null;
  measure: string | null;
  amount: number | null;
  /** Kopecks. */
  price: number | null;
  /** Kopecks, as the billing gave it (it may differ from price × amount). */
  totalSum: number;
}

/** A PAYMENT's link to a bill, with the bill's Papka uuid once that bill is imported too. */
export interface BillingDocumentRelation {
  id: string;
  type: string;
  title: string | null;
  date: string | null;
  /** Kopecks. */
  relationSum: number;
  /** The imported document it points at, or null when that one is not imported (yet). */
  uuid: string | null;
}

/**
 * A document imported from a billing connection: 001's fields and names, plus `uuid`, with every
 * sum in kopecks (converted from the decimal text, never through a float).
 */
export interface BillingDocumentSnapshot {
  uuid: string;
  /** The billing's own id (001 `id`, also its number). Unique per connection and type only. */
  id: string;
  type: BillingDocumentType;
  subType: string | null;
  status: BillingDocumentStatus | null;
  title: string | null;
  description: string | null;
  /** As 001 gives it: `2021-06-03 15:17:42`, the billing's local time. */
  date: string;
  deadline: string | null;
  /** Kopecks, as given. */
  vatSum: number;
  totalSum: number;
  balanceSum: number;
  items: BillingDocumentItem[];
  relations: BillingDocumentRelation[];
  /** When Papka first imported it and last saw it change (ISO). */
  importedAt: string;
  updatedAt: string;
}

/** A document seen for the first time on this connection; `data` is the full snapshot. */
export const FinanceBillingDocumentImported = defineEvent<BillingDocumentSnapshot, 'finance.billing-document.imported'>('finance.billing-document.imported', 1, Topics.finance);
/** A document seen again with other content (a status, a sum, a line); `data` is the full new snapshot. */
export const FinanceBillingDocumentUpdated = defineEvent<BillingDocumentSnapshot, 'finance.billing-document.updated'>('finance.billing-document.updated', 1, Topics.finance);
