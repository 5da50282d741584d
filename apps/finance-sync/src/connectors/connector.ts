/*
 * The one port every finance target sits behind. Pure: no Nest, no TypeORM. The engine owns
 * the ledger, the mapping, retries, parking, the limiter and pausing; a connector only knows how
 * to say things to its target and how to find what an earlier, maybe-applied call left there.
 */
import type { FinanceTarget, PaymentType } from '@papka/contracts';

/** How a call to a target failed; the engine decides what each means for the record. */
export type ConnectorFailure =
  /** The target blocked this method (429): wait, probe once per back-off step. */
  | 'rate_limited'
  /** Not applied (refused, down, 503): send again later, not a failed attempt. */
  | 'unavailable'
  /** May have been applied (timeout, reset, 5xx after sending): look it up before any resend. */
  | 'outcome_unknown'
  /** Refused for good (validation, closed account): resending the same will not help. */
  | 'rejected'
  /** The token is no longer accepted: pause the connection. */
  | 'unauthorized'
  /** The target's subscription lapsed (Adesk code 21): pause the connection. */
  | 'payment_required';

export class ConnectorError extends Error {
  constructor(
    readonly failure: ConnectorFailure,
    message: string,
    /** The limiter key of the call that failed, e.g. `POST /v2/transactions/create`. */
    readonly method: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

export interface ContractorBankData {
  uuid: string;
  bik: string;
  number: string;
  name: string;
}

export interface ContractorData {
  id: string;
  name: string;
  inn: string | null;
  kpp: string | null;
  address: string | null;
  banks: ContractorBankData[];
}

export interface InteractionData {
  id: string;
  name: string;
  /** Kopecks. */
  sum: number;
  contractorRemoteId: string;
}

export interface PaymentData {
  id: string;
  type: PaymentType;
  name: string;
  /** Kopecks. */
  sum: number;
  /** YYYY-MM-DD. */
  date: string;
  contractorRemoteId: string;
  projectRemoteId: string;
}

/** A payment-like object as the target holds it (read back for look-ups, webhooks, reconciliation). */
export interface RemotePayment {
  remoteId: string;
  /** The Papka payment it carries the marker of, if any. */
  entityId: string | null;
  type: PaymentType;
  /** Kopecks, parsed from the target's decimal string without floating point. */
  sum: number;
  date: string;
  projectRemoteId: string | null;
  contractorRemoteId: string | null;
  description: string;
}

/**
 * One remote step of bringing an entity over, recorded in the ledger as
 * `(connection, op, key)` before it runs. `find` is asked first whenever an earlier run of the
 * step may have been applied.
 */
export interface Step {
  op: string;
  /** The ledger's entity: the Papka uuid the step's remote object belongs to. */
  key: string;
  /** The limiter key. */
  method: string;
  /**
   * Mapping kind the result is stored under (`contractor`, `requisites`, `project`, ...); a
   * step already mapped is skipped. null: an update, run whenever it is listed, stores nothing.
   */
  kind: string | null;
  find(): Promise<string | null>;
  run(): Promise<string>;
}

export interface Settings {
  [key: string]: unknown;
}

export interface Connector {
  readonly target: FinanceTarget;
  /** One cheap call that proves the token; answers the settings with defaults filled in. */
  check(settings: Settings): Promise<Settings>;
  /** A cheap call while paused: resolves when the target answers normally again. */
  probe(): Promise<void>;
  /** Registers the webhook (idempotent: an existing one for the URL is kept). */
  registerWebhook(url: string): Promise<void>;
  /**
   * The ordered steps of a contractor; `done` answers the remote ids of steps already mapped (by
   * kind and key). `changed`: it was synced before with other content, so an existing remote
   * object gets an update step.
   */
  contractorSteps(c: ContractorData, done: (kind: string, key: string) => string | undefined, changed: boolean): Step[];
  interactionSteps(i: InteractionData, done: (kind: string, key: string) => string | undefined, changed: boolean): Step[];
  /** The bulk create method's limiter key and the largest batch. */
  readonly paymentBatch: { method: string; size: number };
  /** Creates the payments in one call; the remote ids in input order. Fails as a whole. */
  createPayments(items: PaymentData[]): Promise<string[]>;
  /** Remote objects carrying each payment's key or marker (more than one is a duplicate). */
  findPayments(items: PaymentData[]): Promise<Map<string, string[]>>;
  readonly removeMethod: string;
  removePayments(remoteIds: string[]): Promise<void>;
  /** A payment object re-read by its remote id; null when it is gone. */
  readPayment(remoteId: string): Promise<RemotePayment | null>;
  /** Every payment object on the connection's account between two dates (reconciliation). */
  listPayments(from: string, to: string): Promise<RemotePayment[]>;
  /** Projects (deals) carrying a Papka marker, by entity id (reconciliation, duplicates). */
  listMarkedProjects(): Promise<Map<string, string[]>>;
  close(): Promise<void>;
}

export interface ConnectorFactoryOptions {
  token: string;
  settings: Settings;
  /** Short, stable per connection: goes into correlation ids (`papka:<conn8>:<uuid>`). */
  connectionTag: string;
  timeoutMs: number;
}

/** The marker every remote object carries in its description, so it can be found again. */
export const marker = (entityId: string): string => `[papka:${entityId}]`;

const MARKER = /\[papka:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\]/i;

export const markerOf = (text: string | null | undefined): string | null => (text ? (MARKER.exec(text)?.[1]?.toLowerCase() ?? null) : null);

/** "2010.00" / "2010.5" / 2010 -> 201000 kopecks, without floating point. */
export function decimalToKopecks(value: unknown): number {
  const s = typeof value === 'number' ? value.toFixed(2) : String(value ?? '').trim().replace(',', '.').replace(/\s/g, '');
  const m = /^(-?)(\d+)(?:\.(\d{1,2})\d*)?$/.exec(s);
  if (!m) return NaN;
  const kopecks = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -kopecks : kopecks;
}
