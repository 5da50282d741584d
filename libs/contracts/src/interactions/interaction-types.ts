/**
 * Status of an interaction (a deal), an integer as in the public API (`"status": 4`).
 * 1 новое, 2 в работе, 3 ждёт оплаты, 4 завершено, 5 отменено.
 */
export enum InteractionStatus {
  New = 1,
  InProgress = 2,
  AwaitingPayment = 3,
  Completed = 4,
  Cancelled = 5,
}

export const INTERACTION_STATUSES = [1, 2, 3, 4, 5] as const;

export const INTERACTION_STATUS_NAMES: Record<InteractionStatus, string> = {
  1: 'new',
  2: 'in progress',
  3: 'awaiting payment',
  4: 'completed',
  5: 'cancelled',
};

/**
 * Allowed moves. Work goes forward (new -> in progress -> awaiting payment -> completed),
 * payment can send it back to work, a completed deal can be reopened, a cancelled one only
 * restored as new. Setting the current status again is always a no-op.
 */
export const INTERACTION_TRANSITIONS: Record<InteractionStatus, readonly InteractionStatus[]> = {
  1: [2, 3, 4, 5],
  2: [3, 4, 5],
  3: [2, 4, 5],
  4: [2],
  5: [1],
};

export const canMoveInteraction = (from: InteractionStatus, to: InteractionStatus): boolean =>
  from === to || INTERACTION_TRANSITIONS[from].includes(to);

/** income: money from the contractor; outcome: money to the contractor (refunds, costs). */
export const PAYMENT_TYPES = ['income', 'outcome'] as const;
export type PaymentType = (typeof PAYMENT_TYPES)[number];
