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

/** The full state of an interaction, carried by every interaction event. */
export interface InteractionSnapshot {
  uuid: string;
  contractorId: string;
  contractor: { name: string; inn: string | null; address: string | null };
  name: string;
  description: string;
  status: InteractionStatus;
  /** Kopecks. */
  sum: number;
  /** Kopecks: income minus outcome. */
  paidSum: number;
  /** Kopecks: sum minus paidSum. */
  balance: number;
  documents: InteractionDocumentSnapshot[];
  files: InteractionFileSnapshot[];
  payments: PaymentSnapshot[];
  createdAt: string;
  updatedAt: string;
}

/** Payment events carry the interaction and the payment that was recorded or removed. */
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
