import type { InteractionStatus, PaymentType } from '../../interactions/interaction-types';

/** A payment as finance-sync needs it: money in kopecks, an ISO date, the contractor's bank account. */
export interface PaymentSnapshot {
  uuid: string;
  type: PaymentType;
  name: string;
  /** Kopecks. */
  sum: number;
  /** YYYY-MM-DD. */
  date: string;
  contractorBank: { uuid: string; bik: string; number: string; name: string } | null;
  createdAt: string;
}

export interface InteractionDocumentSnapshot {
  id: string;
  name: string;
  type: string;
  status: number;
  filename: string | null;
  /** Kopecks. */
  sum: number;
  createdAt: string;
}

export interface InteractionFileSnapshot {
  uuid: string;
  filename: string;
  name: string;
  contentType: string | null;
  size: number;
  createdAt: string;
}

/**
 * The state of an interaction, carried by every interaction event (version 2). Bounded in
 * size: payments, which grow without limit, are not in it; each travels in its own
 * `interaction.payment.recorded|removed` event, and the snapshot keeps their count and totals.
 * Documents and files stay in it (a handful per deal in practice; see the interactions README).
 */
export interface InteractionSnapshot {
  uuid: string;
  contractorId: string;
  contractor: { name: string; inn: string | null; address: string | null };
  name: string;
  description: string;
  status: InteractionStatus;
  /** Kopecks. */
  sum: number;
  /** Kopecks: income minus outcome, over every payment. */
  paidSum: number;
  /** Kopecks: sum minus paidSum. */
  balance: number;
  /** How many payments the interaction has. */
  paymentsCount: number;
  documents: InteractionDocumentSnapshot[];
  files: InteractionFileSnapshot[];
  createdAt: string;
  updatedAt: string;
}

/**
 * The version-1 snapshot: every payment inline and no `paymentsCount`. Version-1 events stay on
 * the compacted topic (the last event of an interaction untouched since), so a consumer reads
 * both; `interactionSnapshotOf` gives either as version 2.
 */
export interface InteractionSnapshotV1 extends Omit<InteractionSnapshot, 'paymentsCount'> {
  payments: PaymentSnapshot[];
}

/** Payment events carry the interaction (with its new totals) and the one payment that was recorded or removed. */
export interface InteractionPaymentEvent extends InteractionSnapshot {
  payment: PaymentSnapshot;
}

export interface InteractionDocumentEvent extends InteractionSnapshot {
  document: InteractionDocumentSnapshot;
  /** Why it was detached: `user`, or `document-deleted` when the document itself went away. */
  reason?: 'user' | 'document-deleted';
}

export interface InteractionFileEvent extends InteractionSnapshot {
  file: InteractionFileSnapshot;
}

export interface InteractionStatusEvent extends InteractionSnapshot {
  previousStatus: InteractionStatus;
}
