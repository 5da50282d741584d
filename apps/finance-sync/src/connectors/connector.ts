/*
 * The one port every finance target sits behind. Pure: no Nest, no TypeORM. The engine owns
 * the ledger, the mapping, retries, parking, the limiter and pausing; a connector only knows how
 * to say things to its target and how to find what an earlier, maybe-applied call left there.
 *
 * A connector is a folder under connectors/ that exports a ConnectorDefinition; connectors/index.ts
 * lists the definitions. See the README ("What a connector provides").
 */
import type { Readable } from 'node:stream';
import type { FinanceEntityType, FinanceTarget, PaymentType } from '@papka/contracts';

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
  /** The target's subscription lapsed (Adesk code 21, MoySklad 1043/1070/30006): pause the connection. */
  | 'payment_required'
  /**
   * Refused for something the connection's settings name, which every record would get (Adesk's
   * closed `settings.bankAccountId`): nothing applied; pause the connection until its settings are
   * changed, or its probe finds that the target takes them again (`check`).
   */
  | 'settings_refused';

export class ConnectorError extends Error {
  constructor(
    readonly failure: ConnectorFailure,
    message: string,
    /**
     * The limiter key of the call that failed, e.g. `POST /v2/transactions/create`. From
     * `check()`, a `settings.<field>` here makes the PUT a 400 naming that field.
     */
    readonly method: string,
    readonly retryAfterMs?: number,
    /**
     * A refusal of a bulk call that any of its items would get (Adesk's closed bank account):
     * the engine fails them all at once instead of halving the batch to find the bad one.
     */
    readonly everyItem = false,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

/** A setting the connector cannot take: the PUT answers 400 naming `field` (e.g. `settings.baseUrl`). */
export class InvalidSettings extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidSettings';
  }
}

export type EntityType = FinanceEntityType;

export interface ContractorBankData {
  uuid: string;
  bik: string;
  number: string;
  name: string;
}

export interface ContractorData {
  id: string;
  /** 1 ИП, 2 legal entity, 3 natural person (ContractorType). */
  type: number;
  name: string;
  inn: string | null;
  kpp: string | null;
  address: string | null;
  /** From the party's `fullInfo.data` when the contractor has one (DaData shape); else null. */
  ogrn: string | null;
  /** `fullInfo.data.name.full_with_opf`, else null. */
  legalName: string | null;
  /** `fullInfo.data.address.value`, else null. */
  legalAddress: string | null;
  banks: ContractorBankData[];
}

export interface InteractionData {
  id: string;
  name: string;
  /** Kopecks. */
  sum: number;
  contractorId: string;
  /** The contractor's remote id on this connection (mapped), or null when it is not synced. */
  contractorRemoteId: string | null;
}

/** What kind of document it is: a built-in template's kind, else read from the free-text type. */
export type DocumentKind = 'invoice' | 'act' | 'contract' | 'letter';

/** The contractor a document names, from the contractor read model (the document's own copy when it is not there). */
export interface DocumentContractor {
  id: string;
  name: string;
  inn: string | null;
  kpp: string | null;
  address: string | null;
  /** Remote id on this connection (mapped), or null. */
  remoteId: string | null;
}

/**
 * The account's own organisation (the seller), from the organisation read model (`organization.updated`
 * on papka.contractors.v1, PUT /v2/docs/organization in the contractors service).
 */
export interface OrganizationData {
  /** The Papka account: one organisation per account (the DMS's Organization.Ext_ID). */
  accountId: string;
  name: string;
  inn: string;
  kpp: string | null;
}

export interface DocumentData {
  id: string;
  /** The user's free-text type (e.g. "Счёт"). */
  type: string;
  /** See documentKindOf; null: none of the known kinds. */
  kind: DocumentKind | null;
  /** The built-in or uploaded template it was made from, if any. */
  templateId: string | null;
  name: string;
  /** Kopecks. */
  sum: number;
  masks: Record<string, unknown>;
  /** ISO timestamp. */
  createdAt: string;
  /** DocumentStatus (1 draft .. 5 cancelled). */
  status: number;
  renderState: 'pending' | 'rendered' | 'failed';
  /** Key in the `documents` bucket, once rendered: read it through FileSource. */
  storageKey: string | null;
  filename: string | null;
  contentType: string | null;
  contractor: DocumentContractor | null;
  /** The interaction it is attached to (the first, when several), or null. */
  interactionId: string | null;
  /** Another document of the same interaction whose kind is `contract`, if any. */
  contractDocumentId: string | null;
  /** The seller: the account's organisation as Papka has it, or null while the account has none (a connector may fall back to a setting). */
  organization: OrganizationData | null;
  /**
   * The income payment that pays this invoice in full (the rule of `PaymentInvoice.paidInFullBy`:
   * on an interaction whose invoice it is, the payment that brings the income payments, in date
   * order, to its sum), or null: not paid in full, not an invoice, or a target whose definition
   * does not ask for it (`documentsWithPayment`). For those targets it is part of `contentHash`,
   * so the document is queued again when it becomes paid (or stops being paid).
   */
  payment: DocumentPayment | null;
  /** Hash of everything above: a changed document gets a new one (DMS RequestID). */
  contentHash: string;
}

/** The payment that pays an invoice in full, as `DocumentData.payment` gives it. */
export interface DocumentPayment {
  id: string;
  /** The payment's name (its number, as the user typed it). */
  name: string;
  /** YYYY-MM-DD. */
  date: string;
}

/** The invoice document of a payment's interaction (the first of kind `invoice` attached to it). */
export interface PaymentInvoice {
  id: string;
  /** Its template (a built-in invoice's uuid is in BUILTIN_TEMPLATE_KINDS), to decide as `applies` does for the document. Always set by the engine. */
  templateId?: string | null;
  /** Kopecks. */
  sum: number;
  /** Its remote id on this connection (mapped), or null when it is not synced (or not applicable there). */
  remoteId: string | null;
  /** The invoice as documentSteps gets it (the DMS sends its fields again with the payment); null when not live in the read model. */
  document?: DocumentData | null;
  /**
   * The income payment of the interaction that pays the invoice in full: the one that brings its
   * income payments, in date order, to the invoice's sum; null while they do not reach it.
   * Set by the engine for a target whose definition has `paymentsDependOnSiblings`.
   */
  paidInFullBy?: string | null;
}

export interface PaymentData {
  id: string;
  type: PaymentType;
  name: string;
  /** Kopecks. */
  sum: number;
  /** YYYY-MM-DD. */
  date: string;
  interactionId: string;
  contractorId: string;
  /**
   * Remote ids on this connection, '' when not mapped. The engine parks a payment until every
   * dependency its connector names (`dependencies`) is mapped, so what a connector depends on
   * is never ''.
   */
  contractorRemoteId: string;
  projectRemoteId: string;
  invoice: PaymentInvoice | null;
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

/** A document object as the target holds it (reconciliation). */
export interface RemoteDocument {
  remoteId: string;
  /** The Papka document it belongs to (its externalCode, Ext_ID or marker), if any. */
  entityId: string | null;
  /** Kopecks, when the target keeps a sum; else null (not compared). */
  sum: number | null;
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
   * The entity's own remote object is the step of kind MAPPING_KIND[entityType] keyed by its id.
   */
  kind: string | null;
  /**
   * The limiter key of `find`'s calls where they go to another method than `method` (Adesk's
   * GET lists): gated as `method` is, so a method blocked by a 429 gets one probe per back-off
   * step and not a look-up from every record whose create is unknown.
   */
  findMethod?: string;
  /**
   * The step removes the object mapped as (kind, key) (a removed bank account's requisites): it
   * runs only while that mapping exists, and the mapping is dropped once it succeeds. Its `run`
   * must succeed when the object is gone already (after an unknown outcome it runs again).
   */
  removes?: boolean;
  /**
   * Looks the step's object up after an unknown outcome. `taken`: whether a remote object is
   * mapped to another entity on this connection already (a look-up by a shared field, an INN,
   * must not adopt it).
   */
  find(taken?: (remoteId: string) => Promise<boolean>): Promise<string | null>;
  run(): Promise<string>;
}

/** Answers the remote id of a step already mapped (by kind and key), or undefined. */
export type Done = (kind: string, key: string) => string | undefined;

/** The keys of the objects of a kind mapped under the entity (every step's mapping of it), whatever its steps now are. */
export type Held = (kind: string) => string[];

export interface Settings {
  [key: string]: unknown;
}

/**
 * Mapping kinds of each entity type's own remote object. Shared by every connector: a
 * MoySklad counterparty is mapped as `contractor`, an invoiceout or DMS record as `document`.
 */
export const MAPPING_KIND: Record<EntityType, string> = { contractor: 'contractor', interaction: 'project', document: 'document', payment: 'transaction' };

/** A remote id an entity needs before it can go: the mapping (kind, local id) of this connection. */
export interface Dependency {
  kind: string;
  key: string;
}

/** An entity as `applies` and `dependencies` see it. */
export type EntityData =
  | { type: 'contractor'; data: ContractorData }
  | { type: 'interaction'; data: InteractionData }
  | { type: 'document'; data: DocumentData }
  | { type: 'payment'; data: PaymentData };

/** Per item of a bulk create: the remote id, or why that item failed (`rejected`, `outcome_unknown`, ...). */
export type ItemResult = string | ConnectorError;

export interface Connector {
  readonly target: FinanceTarget;
  /**
   * One cheap call that proves the token; answers the settings with defaults filled in. A
   * ConnectorError `unauthorized` is the PUT's 400 naming `token`; `rejected` with a method of
   * `settings.<field>` a 400 naming that field; InvalidSettings likewise.
   */
  check(settings: Settings): Promise<Settings>;
  /** A cheap call while paused: resolves when the target answers normally again. */
  probe(): Promise<void>;
  /** Registers the webhook (idempotent). Absent: the target has no webhooks (webhookUrl is null). */
  registerWebhook?(url: string): Promise<void>;

  /**
   * Whether this entity is for the target at all (e.g. MoySklad takes only invoices, the DMS
   * only rendered documents). Not applicable: the record is `synced` with no remote id and the
   * reason in `lastError`; a later change of the entity queues it again and asks again.
   * Absent: every entity of a type in `entities` applies.
   */
  applies?(e: EntityData): true | string;
  /**
   * The remote ids the entity needs first. One that is not mapped yet parks the record; it is
   * released as soon as that dependency syncs. Absent: none.
   */
  dependencies?(e: EntityData): Dependency[];

  /**
   * The ordered steps of a contractor; `done` answers the remote ids of steps already mapped (by
   * kind and key). `changed`: it was synced before with other content, so an existing remote
   * object gets an update step. `held`: what is mapped under it now, so that an object it no
   * longer has (a removed bank account's requisites) gets a step that `removes` it. Required when
   * `entities` has `contractor` (and so on).
   */
  contractorSteps?(c: ContractorData, done: Done, changed: boolean, held: Held): Step[];
  interactionSteps?(i: InteractionData, done: Done, changed: boolean): Step[];
  documentSteps?(d: DocumentData, done: Done, changed: boolean): Step[];

  /**
   * Payments (required when `entities` has `payment`): the bulk create method's limiter key, the
   * largest batch, and how many batches of one connection may be out at once (default 1).
   */
  readonly paymentBatch?: { method: string; size: number; inFlight?: number };
  /**
   * Creates the payments in one call. Either the remote ids in input order, or per item a remote
   * id or a ConnectorError (a `rejected` item is failed, an `outcome_unknown` one is retried
   * with a look-up first). Throws when the whole batch failed: a whole-batch `rejected` is
   * bisected to find the bad items.
   */
  createPayments?(items: PaymentData[]): Promise<ItemResult[]>;
  /**
   * The limiter key of `findPayments`'s calls (Adesk: its transaction list): the engine gates
   * each look-up (one date's payments at a time) on it. Absent: `lookup`.
   */
  readonly paymentLookupMethod?: string;
  /** Remote objects carrying each payment's key or marker (more than one is a duplicate). */
  findPayments?(items: PaymentData[]): Promise<Map<string, string[]>>;
  readonly removeMethod?: string;
  /** Removing one already gone counts as done. */
  removePayments?(remoteIds: string[]): Promise<void>;
  /** A payment object re-read by its remote id; null when it is gone (webhooks). */
  readPayment?(remoteId: string): Promise<RemotePayment | null>;

  /**
   * Reconciliation: every payment object on the connection's account between two dates.
   * Absent: the target cannot be listed and reconciliation answers 404.
   */
  listPayments?(from: string, to: string): Promise<RemotePayment[]>;
  /** Projects (deals) carrying a Papka marker, by entity id (duplicates in reconciliation). */
  listMarkedProjects?(): Promise<Map<string, string[]>>;
  /**
   * Reconciliation of documents: every document object the target holds for the connection
   * that was created (in Papka: `createdAt`) between the two dates, or every one it has.
   */
  listDocuments?(from: string, to: string): Promise<RemoteDocument[]>;
  close(): Promise<void>;
}

/** Object storage as a connector sees it (the DMS reads rendered PDFs). The engine provides it. */
export interface FileSource {
  /** The `documents` bucket's object under `key`. Throws FileNotFound when absent. */
  open(key: string): Promise<{ stream: Readable; size: number }>;
}

export class FileNotFound extends Error {
  constructor(key: string) {
    super(`file ${key} not found`);
    this.name = 'FileNotFound';
  }
}

export interface ConnectorOptions {
  /** Deployment base URLs from config (never per request). */
  urls: { adesk: string; moysklad: string };
  /** FINANCE_ALLOWED_HOSTS: lowercase `host:port` a per-connection base URL may name although http/private. */
  allowedHosts: readonly string[];
  /** FINANCE_DMS_MAX_FILE_BYTES. */
  maxFileBytes: number;
  files: FileSource;
  token: string;
  settings: Settings;
  /** Short, stable per connection: goes into correlation ids (`papka:<conn8>:<uuid>`). */
  connectionTag: string;
  connectionId: string;
  timeoutMs: number;
  /** FINANCE_BATCH_SIZE: the largest bulk create the engine wants. */
  batchSize: number;
}

/** What a connector folder exports; connectors/index.ts lists them. */
export interface ConnectorDefinition {
  target: FinanceTarget;
  /** The entity types a connection to this target takes: records are queued only for these. */
  entities: readonly EntityType[];
  /**
   * Validates and normalises the PUT's `settings` before the token is checked (throw
   * InvalidSettings naming the field). Absent: settings are taken as given.
   */
  parseSettings?(raw: Settings): Settings;
  /**
   * Whether a payment's `applies` depends on the interaction's other payments (the DMS records
   * only the one that pays the invoice in full): a change to any of them asks the interaction's
   * payments again on this target's connections.
   */
  paymentsDependOnSiblings?: boolean;
  /**
   * Whether this target's documents carry the payment that pays them in full
   * (`DocumentData.payment`, part of their content hash): the DMS sends a paid invoice with its
   * payment fields, so an update after the payment does not undo it. Other targets get null, and
   * a payment changes nothing of what they are sent.
   */
  documentsWithPayment?: boolean;
  create(o: ConnectorOptions): Connector;
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

/** The built-in templates of the documents service (apps/documents/src/templates/builtin/builtin.ts), by uuid. */
export const BUILTIN_TEMPLATE_KINDS: Readonly<Record<string, DocumentKind>> = {
  '61d0fed1-e842-42ba-b2cc-b9423a2a02fa': 'invoice',
  'f631a57a-f0f5-49aa-833c-b904f4ca5dbe': 'act',
  'a103cc3d-43c3-46c1-804c-72bd5a5e68c5': 'contract',
  '69039aeb-83c7-43b9-9f3b-b02cc2bfdd2f': 'letter',
};

/** A word at the start of the type (`\b` knows no Cyrillic: "not followed by a letter" instead). */
const KIND_WORDS: [RegExp, DocumentKind][] = [
  [/^(сч[её]т|invoice)(?!\p{L})/iu, 'invoice'],
  [/^(акт|act)(?!\p{L})/iu, 'act'],
  [/^(договор|contract)/iu, 'contract'],
  [/^(письмо|letter)(?!\p{L})/iu, 'letter'],
];

/**
 * A document's kind: the built-in template it was made from, else its free-text type
 * ("Счёт", "счет", "invoice" ...; "Счёт-фактура" is not an invoice). null: none of them.
 */
export function documentKindOf(d: { templateId: string | null; type: string }): DocumentKind | null {
  const builtin = d.templateId ? BUILTIN_TEMPLATE_KINDS[d.templateId] : undefined;
  if (builtin) return builtin;
  const t = d.type.trim();
  if (/^сч[её]т[\s-]*фактур/iu.test(t)) return null;
  return KIND_WORDS.find(([re]) => re.test(t))?.[1] ?? null;
}
