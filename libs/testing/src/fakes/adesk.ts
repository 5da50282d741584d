/**
 * A fake Adesk (reference 002, finance-targets.md §1 and §7) for finance-sync tests.
 *
 * It keeps per-token Adesk accounts in memory and answers the v1 form API and the v2 JSON bulk
 * transaction API the way 002 documents them, traps included: errors are coded in the body,
 * amounts come back as strings with 2 decimals, dates in mixed formats, `importedId` is stored but
 * never deduplicated (by default) and absent from GET objects and webhooks, the v1 transaction
 * update gives the transaction a new id, a bulk create fails as a whole. Faults (commit-then-drop,
 * 5xx, per-method 429 blocks, "payment required", an outage) are switched on by the test, and a
 * webhook sender redelivers on Adesk's own schedule on a compressible clock.
 */

import { startServer } from './adesk/server';
import type { AdeskWebhookDelivery } from './adesk/webhook-sender';

export { ADESK_WEBHOOK_SCHEDULE_MS } from './adesk/webhook-sender';
export type { AdeskWebhookDelivery, AdeskWebhookEnvelope } from './adesk/webhook-sender';

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** An own company in Adesk (`GET /v1/legal-entities`). */
export interface AdeskLegalEntity {
  id: number;
  name: string;
  inn: string | null;
  kpp: string | null;
}

/** An own money account (`GET /v1/bank-accounts`). `number` and `bankCode` are strings (20 digits, leading zeros). */
export interface AdeskBankAccount {
  id: number;
  name: string;
  number: string;
  bankCode: string;
  bankName: string;
  currency: string;
  type: 'Bank' | 'Cash';
  status: 'open' | 'closed';
  legalEntityId: number;
  /** Rubles with 2 decimals, as Adesk answers sums. */
  initialAmount: string;
}

/** A transaction category (статья). `type` as Adesk numbers it: 1 income, 2 outcome. */
export interface AdeskCategory {
  id: number;
  name: string;
  type: 1 | 2;
}

/** A contractor as the fake holds it. There is no INN on a contractor: it lives in its requisites. */
export interface AdeskContractor {
  id: number;
  name: string;
  contactPerson: string;
  phoneNumber: string;
  email: string;
  description: string;
}

/** One requisites object of a contractor (one bank account each). Every value is a string. */
export interface AdeskRequisites {
  id: number;
  contractorId: number;
  name: string;
  inn: string;
  kpp: string;
  bankAccountNumber: string;
  bankCode: string;
  bankName: string;
  address: string;
  correspondentAccount: string;
}

/** A project; Papka's interactions are projects of type `deal`. */
export interface AdeskProject {
  id: number;
  name: string;
  type: 'project' | 'deal' | 'product_deal';
  description: string;
  /** Rubles with 2 decimals. */
  planIncome: string;
  planOutcome: string;
  dealContractorId: number | null;
  dealLegalEntityId: number | null;
  isArchived: boolean;
}

/** A transaction (операция) as the fake holds it, including what GET never shows (`importedId`). */
export interface AdeskTransaction {
  id: number;
  type: 'income' | 'outcome';
  /** Rubles with 2 decimals, e.g. `"2010.00"` (the request sent the Number 2010). */
  amount: string;
  /** `YYYY-MM-DD`. */
  date: string;
  relatedDate: string | null;
  bankAccountId: number;
  categoryId: number | null;
  contractorId: number | null;
  projectId: number | null;
  description: string;
  /** As sent, or `adesk:<uuid>` when the request had none (v1 creates and Adesk-side ones included). */
  importedId: string;
  isPlanned: boolean;
  /** Who made it: the v2 bulk API, the v1 single API, or Adesk itself ({@link FakeAdeskAccount.createTransactionInAdesk}). */
  source: 'api-v2' | 'api-v1' | 'adesk';
}

/** A registered webhook (`POST /v1/webhook`). */
export interface AdeskWebhook {
  id: number;
  url: string;
  events: string[];
  description: string;
}

/**
 * How a call to the fake ended:
 * - `ok`: answered `success: true`;
 * - `error`: answered a body-coded business error (validation, not found, closed bank account);
 * - `unauthorized` (code 401), `payment-required` (code 21), `rate-limited` (code 429);
 * - `server-error`: answered 5xx (see {@link FakeAdesk.setServerErrors});
 * - `dropped`: the socket was reset without an answer (after committing, for writes);
 * - `stalled`: never answered (after committing, for writes).
 */
export type AdeskCallOutcome =
  | 'ok'
  | 'error'
  | 'unauthorized'
  | 'payment-required'
  | 'rate-limited'
  | 'server-error'
  | 'dropped'
  | 'stalled';

/** One request the fake received. */
export interface AdeskCall {
  /** HTTP verb. */
  method: string;
  /** Path without the query string, e.g. `/v1/contractor/17`. */
  path: string;
  /** The route it matched, ids replaced, e.g. `/v1/contractor/:id` (what 429 blocks are keyed by); the path when none matched. */
  route: string;
  /** `Date.now()` when it arrived. */
  at: number;
  /** HTTP status answered; 0 when none was (dropped, stalled). */
  status: number;
  outcome: AdeskCallOutcome;
  /** The body `code` (401, 21, 429) or v2 `errorCode` of an error answer. */
  code?: number | string;
  /** Whether the call changed state (true also for a write that was then dropped or stalled). */
  committed: boolean;
}

/** Filter for {@link FakeAdesk.calls}. */
export interface AdeskCallFilter {
  method?: string;
  /** Matches `path` or `route` exactly when a string; `path` when a RegExp. */
  path?: string | RegExp;
  outcome?: AdeskCallOutcome;
}

/** What an account starts with (all optional). */
export interface FakeAdeskSeed {
  /** Default one: «ООО "Папка-Тест"». */
  legalEntities?: Array<Partial<Omit<AdeskLegalEntity, 'id'>>>;
  /** Default one open RUR bank account with a 20-digit number on the first legal entity. */
  bankAccounts?: Array<Partial<Omit<AdeskBankAccount, 'id' | 'legalEntityId'>> & { legalEntityIndex?: number }>;
  /** Default «Продажи» (income) and «Закупки» (outcome). */
  categories?: Array<Omit<AdeskCategory, 'id'>>;
}

export interface FakeAdeskOptions {
  /** Valid API tokens of the default account; default one random token. */
  tokens?: string[];
  /** 0 (default) picks a free port. */
  port?: number;
  /** Divides the webhook redelivery schedule (5 s, 5 min, ...): 1000 turns 5 s into 5 ms. Default 1. */
  webhookClock?: number;
  /** How long a webhook receiver may take before the attempt counts as failed (002 says nothing). Default 10 000 ms. */
  webhookTimeoutMs?: number;
  /**
   * What a bulk create does with an `importedId` the account already holds:
   * `accept` (default: 002 documents no dedupe, so a second transaction is created),
   * `reject` (the whole batch fails, errorCode `imported_id_already_exists`),
   * `ignore` (the existing transaction is answered in its place, nothing created).
   */
  duplicateImportedId?: 'accept' | 'reject' | 'ignore';
  /**
   * HTTP status of body-coded errors. `ok` (default): 200, so a client that trusts the status
   * misses every error; `code`: 401 / 402 (code 21) / 429 / 400 (validation) / 404.
   */
  errorHttpStatus?: 'ok' | 'code';
  /** Seed of the pseudo-random draws behind the fault ratios, so a run is repeatable. Default 1. */
  seed?: number;
  /** What the default account starts with. */
  seedData?: FakeAdeskSeed;
  /** An automatic per-method limit from the start (see {@link FakeAdesk.setRateLimit}); default none. */
  rateLimit?: AdeskRateLimit;
}

/**
 * Adesk's rate limit as 002 describes it (L35-44): over a method's limit, that method is blocked.
 * 002 gives no numbers, so a test picks them: more than `calls` calls to one method (route)
 * within `perMs` blocks it for `blockMs`; the call that crosses the limit is refused too. Calls
 * are counted over all accounts, as {@link FakeAdesk.blockMethod} blocks for all of them.
 */
export interface AdeskRateLimit {
  calls: number;
  perMs: number;
  blockMs: number;
}

/** One Adesk account (one set of tokens and its data). */
export interface FakeAdeskAccount {
  /** A valid token of this account. */
  readonly token: string;
  /** All valid tokens of this account. */
  readonly tokens: readonly string[];

  // What it holds (copies; read by tests at the end).
  legalEntities(): AdeskLegalEntity[];
  bankAccounts(): AdeskBankAccount[];
  categories(): AdeskCategory[];
  /** Live contractors (removed ones are gone). */
  contractors(): AdeskContractor[];
  requisites(): AdeskRequisites[];
  projects(): AdeskProject[];
  /** Live transactions, with `importedId`, in creation order. */
  transactions(): AdeskTransaction[];
  webhooks(): AdeskWebhook[];

  /** Turns "payment required" (body code 21 on every call with this account's tokens) on or off. */
  setPaymentRequired(on: boolean): void;
  /** Closes a bank account: a bulk create with any item on it fails as a whole (`cannot_use_closed_bank_account`). */
  closeBankAccount(id: number): void;
  /** Opens a closed bank account again (as Adesk's UI can). */
  openBankAccount(id: number): void;
  /** Adds an open bank account (e.g. a second one for a test). */
  addBankAccount(a?: Partial<Omit<AdeskBankAccount, 'id'>>): AdeskBankAccount;

  // Adesk-side activity: as a bank-statement import or a user in Adesk's UI would do it.
  /** Creates a transaction (source `adesk`) and sends `transaction.created` webhooks. */
  createTransactionInAdesk(t: {
    type: 'income' | 'outcome';
    /** Rubles, e.g. 2010 or "2010.00". */
    amount: number | string;
    /** `YYYY-MM-DD`. */
    date: string;
    /** Default: the first open bank account. */
    bankAccountId?: number;
    projectId?: number;
    contractorId?: number;
    categoryId?: number;
    description?: string;
  }): AdeskTransaction;
  /** Deletes a transaction and sends `transaction.deleted` webhooks. Throws when there is none. */
  deleteTransactionInAdesk(id: number): void;
}

export interface FakeAdesk extends FakeAdeskAccount {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:PORT`; paths as in 002 (`/v1/...`, `/v2/...`). */
  readonly url: string;

  /** Another Adesk account with its own tokens and data (the default account is `this`). */
  addAccount(o?: { tokens?: string[]; seedData?: FakeAdeskSeed }): FakeAdeskAccount;
  /** The account a token belongs to. */
  account(token: string): FakeAdeskAccount | undefined;

  /** Every request received, oldest first, optionally filtered. */
  calls(filter?: AdeskCallFilter): AdeskCall[];
  /** Every webhook delivery attempt, oldest first. */
  deliveries(filter?: { eventId?: string; eventType?: string }): AdeskWebhookDelivery[];

  // Faults (server-wide).
  /**
   * For this share (0..1) of state-changing calls: apply the change, then `reset` the socket
   * (the client sees ECONNRESET) or `stall` (never answer; the client's timeout fires).
   */
  setCommitThenDrop(ratio: number, mode?: 'reset' | 'stall'): void;
  /**
   * For this share (0..1) of calls: answer 500. `before` (default) changes nothing;
   * `after` applies a write first (an unknown outcome for the client). `body`: an HTML page
   * (default), or `json`, Adesk's body-coded shape `{ success: false, message, code: 500 }`,
   * which says nothing of whether the write was applied either.
   */
  setServerErrors(ratio: number, when?: 'before' | 'after', body?: 'html' | 'json'): void;
  /**
   * Blocks an Adesk method with body code 429 for `ms` (Infinity: until {@link unblockMethod}); other
   * methods keep answering. `method` is a route as in {@link AdeskCall.route}, e.g.
   * `/v2/transactions/create` or `/v1/contractor/:id` (every verb), or `POST /v1/contractor/:id` (one verb).
   */
  blockMethod(method: string, ms: number): void;
  /** Turns the automatic per-method limit on (or off with null). Blocks it sets are lifted by time or {@link unblockMethod}. */
  setRateLimit(limit: AdeskRateLimit | null): void;
  unblockMethod(method: string): void;
  /** Turns "payment required" on or off for the account of `token`. */
  setPaymentRequired(on: boolean): void;
  setPaymentRequired(token: string, on: boolean): void;
  /** Adesk unreachable: stop listening (connections refused) and destroy open sockets; off listens again on the same port. */
  setDown(on: boolean): Promise<void>;
  /** Every fault off (ratios 0, blocks and the rate limit lifted, payment required off, up). Data and logs are kept. */
  clearFaults(): Promise<void>;

  // Webhook sender.
  /** Each event goes out as this many independent delivery chains with the same eventId (default 1). */
  setWebhookDuplicates(copies: number): void;
  /** Holds new events instead of sending them, until {@link releaseWebhooks}. */
  holdWebhooks(): void;
  /** Sends held events, oldest first (`fifo`) or newest first (`lifo`, out of order). */
  releaseWebhooks(order?: 'fifo' | 'lifo'): void;
  /** For API writes: send the events' first deliveries and wait for them before answering (the webhook beats the response). */
  setWebhooksBeatResponse(on: boolean): void;
  /** Sends an already-sent event once more (a duplicate), as a new chain. */
  redeliver(eventId: string): void;
  /**
   * Resolves once no delivery chain is running (none in flight, none waiting for a redelivery).
   * Held events do not count. A chain that keeps failing runs the whole schedule / `webhookClock`.
   */
  webhooksSettled(): Promise<void>;

  /** Stops listening, cancels redeliveries, destroys every socket (stalled ones too). */
  close(): Promise<void>;
}

/** Starts a fake Adesk on 127.0.0.1 (a free port unless `port`); `close()` it when done. */
export function startFakeAdesk(options: FakeAdeskOptions = {}): Promise<FakeAdesk> {
  return startServer(options);
}
