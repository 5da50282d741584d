/** The systems finance-sync keeps in sync (apps/finance-sync/src/connectors/index.ts says which have a connector). */
export const FINANCE_TARGETS = ['adesk', 'moysklad', 'dms', 'billing'] as const;
export type FinanceTarget = (typeof FINANCE_TARGETS)[number];

export const CONNECTION_STATES = ['active', 'paused', 'backfilling'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];
export const PAUSE_REASONS = ['payment_required', 'unauthorized', 'rate_limited', 'settings_refused'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

export const RECORD_STATES = ['pending', 'synced', 'failed', 'parked'] as const;
export type RecordState = (typeof RECORD_STATES)[number];
export const ENTITY_TYPES = ['contractor', 'interaction', 'document', 'payment'] as const;
export type FinanceEntityType = (typeof ENTITY_TYPES)[number];
