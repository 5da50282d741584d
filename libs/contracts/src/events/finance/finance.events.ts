import { Topics } from '../../topics';
import { defineEvent } from '../envelope';
import type { FinanceEntityType, FinanceTarget } from '../../finance/finance-types';
import type { PaymentType } from '../../interactions/interaction-types';

/** A Papka entity's state in one target; never carries the connection's token. */
export interface FinanceRecordEvent {
  target: FinanceTarget;
  entityType: FinanceEntityType;
  entityId: string;
  /** The remote object's id, when there is one. */
  remoteId: string | null;
  attempts: number;
  /** The target's own message for a failure. */
  lastError: string | null;
}

/** The entity is in the target (created, or found there after a lost answer), or its removal went through. */
export const FinanceRecordSynced = defineEvent<FinanceRecordEvent, 'finance.record.synced'>('finance.record.synced', 1, Topics.finance);
/** The target refused the entity for good, or the retry schedule ran out; `lastError` says why. */
export const FinanceRecordFailed = defineEvent<FinanceRecordEvent, 'finance.record.failed'>('finance.record.failed', 1, Topics.finance);

/**
 * A command to the interactions service: a payment created in the target itself (a bank
 * statement import into Adesk, say) on a project that maps to an interaction. `paymentId` is
 * derived from the connection and the remote id, so a repeat records nothing new; the
 * interactions service records it once per `(source, externalId)`. finance-sync has mapped the
 * payment to its remote object already, so the `interaction.payment.recorded` that follows is
 * not pushed back.
 */
export interface PaymentImportRequest {
  interactionId: string;
  paymentId: string;
  /** e.g. `adesk`. */
  source: FinanceTarget;
  /** The remote object's id. */
  externalId: string;
  type: PaymentType;
  name: string;
  /** Kopecks. */
  sum: number;
  /** YYYY-MM-DD. */
  date: string;
}

export const InteractionPaymentImportRequested = defineEvent<PaymentImportRequest, 'interaction.payment.import-requested'>(
  'interaction.payment.import-requested',
  1,
  Topics.finance,
);

/** The remote object of an imported (or synced) payment was deleted in the target: remove the payment. */
export interface PaymentRemoveRequest {
  interactionId: string;
  paymentId: string;
  source: FinanceTarget;
  externalId: string;
}

export const InteractionPaymentRemoveRequested = defineEvent<PaymentRemoveRequest, 'interaction.payment.remove-requested'>(
  'interaction.payment.remove-requested',
  1,
  Topics.finance,
);
