/**
 * Papka entities to MoySklad JSON API 1.2 bodies and back (finance-targets.md §2; public docs
 * `_counterparty.md`, `_invoice_out.md`, `_payment_in.md`, `_payment_out.md`). Pure.
 *
 * Every body carries `externalCode` = the Papka uuid and `syncId` = UUIDv5(connection id,
 * "<moysklad type>:<uuid>"), so a resend of the same create (after a reset, a timeout, a crash)
 * answers the entity the first one made, and nothing else of another connection can collide.
 */
import { createHash } from 'node:crypto';
import type { PaymentType } from '@papka/contracts';
import { marker, markerOf, type ContractorData, type DocumentData, type PaymentData, type RemotePayment } from '../connector';
import type { TokenKind } from './moysklad.limiter';

export type MoyskladEntityType = 'counterparty' | 'invoiceout' | 'paymentin' | 'paymentout' | 'service';

export interface MoyskladSettings {
  organizationId: string;
  organizationAccountId?: string;
  /** Needed by every paymentout (`expenseItem` is required there); check() fills it in. */
  expenseItemId: string;
  /**
   * The service an invoiceout's one position names (MoySklad computes a document's sum from its
   * positions): check() finds or creates «Услуги по счёту». Absent only on a connection saved
   * before it was kept: its invoices then go without positions until the next PUT.
   */
  invoiceServiceId?: string;
  tokenKind: TokenKind;
}


export type Meta = { meta: { href: string; type: string; mediaType: 'application/json' } };
type Body = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 4122 §4.3 name-based uuid, SHA-1 (version 5), in `namespace` (a uuid). */
export function uuidV5(namespace: string, name: string): string {
  if (!UUID.test(namespace)) throw new Error('uuidV5: the namespace must be a uuid');
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const b = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const syncIdOf = (connectionId: string, type: MoyskladEntityType, entityId: string): string => uuidV5(connectionId, `${type}:${entityId.toLowerCase()}`);

/** The service Papka's invoices are priced through: found by this externalCode, created with a fixed syncId. */
export const INVOICE_SERVICE = {
  name: 'Услуги по счёту',
  externalCode: 'papka-invoice',
  syncId: uuidV5('00000000-0000-0000-0000-000000000000', 'service:papka-invoice'),
} as const;

/** A reference to an entity: `{ meta: { href, type, mediaType } }` under the API root. */
export const metaOf = (baseUrl: string, type: string, id: string): Meta => ({
  meta: { href: `${baseUrl.replace(/(?<!\/)\/+$/, '')}/entity/${type}/${id}`, type, mediaType: 'application/json' },
});

/** The id at the end of a reference's href. */
export const idOfMeta = (ref: unknown): string | null => {
  const href = (ref as { meta?: { href?: unknown } } | null | undefined)?.meta?.href;
  const m = typeof href === 'string' ? /\/([0-9a-f-]{36})$/i.exec(href) : null;
  return m ? m[1]!.toLowerCase() : null;
};

const cut = (s: string, max: number): string => (s.length <= max ? s : s.slice(0, max));

/** ContractorType 1 ИП, 2 legal entity, 3 natural person → MoySklad's companyType. */
export const companyTypeOf = (type: number): 'entrepreneur' | 'legal' | 'individual' => (type === 1 ? 'entrepreneur' : type === 3 ? 'individual' : 'legal');

/**
 * A counterparty. INN and KPP as strings; OGRN goes to `ogrn` for a legal entity and to `ogrnip`
 * for an ИП (both 13/15 digits from the party's fullInfo). `legalTitle` and `legalAddress` come
 * from fullInfo (`name.full_with_opf`, `address.value`) when the contractor has it, else from its
 * own name and address. A natural person has no KPP or OGRN. One account per bank account.
 */
export function counterpartyBody(c: ContractorData, connectionId: string): Body {
  const companyType = companyTypeOf(c.type);
  const body: Body = {
    name: cut(c.name, 255),
    companyType,
    externalCode: c.id,
    syncId: syncIdOf(connectionId, 'counterparty', c.id),
    description: marker(c.id),
    legalTitle: cut(c.legalName ?? c.name, 4096),
  };
  if (c.inn) body.inn = c.inn;
  if (companyType === 'legal' && c.kpp) body.kpp = c.kpp;
  if (c.ogrn && companyType === 'legal') body.ogrn = c.ogrn;
  if (c.ogrn && companyType === 'entrepreneur') body.ogrnip = c.ogrn;
  const address = c.legalAddress ?? c.address;
  if (address) body.legalAddress = cut(address, 255);
  if (c.banks.length > 0) body.accounts = c.banks.map((b, i) => ({ accountNumber: b.number, bic: b.bik, ...(b.name ? { bankName: cut(b.name, 255) } : {}), isDefault: i === 0 }));
  return body;
}

/**
 * What an update of a counterparty sends: the same fields (the accounts list whole), never
 * `syncId` (1047 once set) and never `externalCode`: ours got it at create and it never changes,
 * and one the account had before Papka adopted it (see MoyskladConnector) keeps its own, which
 * its other integrations (1C) match it by.
 */
export function counterpartyUpdate(c: ContractorData, connectionId: string): Body {
  const { syncId: _s, externalCode: _e, ...rest } = counterpartyBody(c, connectionId);
  return rest;
}

/** `YYYY-MM-DD` at 00:00:00 in MoySklad's own format (its moments are Moscow time). */
export const momentOfDate = (date: string): string => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`not a date: ${date}`);
  return `${date} 00:00:00`;
};

/** An ISO timestamp as a Moscow-time moment (UTC+3 all year since 2014). */
export const momentOfIso = (iso: string): string => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`not a timestamp: ${iso}`);
  return new Date(t + 3 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
};

/**
 * An invoice document as an `invoiceout` of the counterparty. MoySklad computes a document's
 * `sum` from its positions (the field is read-only), so the invoice goes as one position of the
 * connection's invoice service: quantity 1 at the invoice's sum in kopecks, VAT not added on top
 * (the sum is what the buyer pays). No `name`: MoySklad numbers documents itself and refuses a
 * duplicate number; the Papka name goes into `description`.
 */
export function invoiceOutBody(d: DocumentData, agentRemoteId: string, s: MoyskladSettings, baseUrl: string, connectionId: string): Body {
  const body: Body = {
    organization: metaOf(baseUrl, 'organization', s.organizationId),
    agent: metaOf(baseUrl, 'counterparty', agentRemoteId),
    moment: momentOfIso(d.createdAt),
    ...(s.invoiceServiceId
      ? { vatEnabled: false, positions: [{ quantity: 1, price: d.sum, discount: 0, vat: 0, assortment: metaOf(baseUrl, 'service', s.invoiceServiceId) }] }
      : { sum: d.sum }),
    externalCode: d.id,
    syncId: syncIdOf(connectionId, 'invoiceout', d.id),
    description: `${cut(d.name, 4000)} ${marker(d.id)}`.trim(),
  };
  if (s.organizationAccountId) body.organizationAccount = { meta: { href: `${baseUrl.replace(/(?<!\/)\/+$/, '')}/entity/organization/${s.organizationId}/accounts/${s.organizationAccountId}`, type: 'account', mediaType: 'application/json' } };
  return body;
}

export const paymentTypeOf = (t: PaymentType): 'paymentin' | 'paymentout' => (t === 'income' ? 'paymentin' : 'paymentout');

/**
 * The operations a payment links: its interaction's invoice, when synced, with the whole
 * payment as `linkedSum`. Only a paymentin may name an invoiceout (the API's whitelist: a
 * paymentout links salesreturn, supply, invoicein, purchaseorder, commissionreportout).
 */
export function operationsOf(p: PaymentData, baseUrl: string): Array<Meta & { linkedSum: number }> {
  if (p.type !== 'income' || !p.invoice?.remoteId) return [];
  return [{ ...metaOf(baseUrl, 'invoiceout', p.invoice.remoteId), linkedSum: p.sum }];
}

/**
 * A payment: `paymentin` for income, `paymentout` for outcome with the connection's
 * `expenseItem`. `MoyskladSettings.expenseItemId` is a required string that check() fills in,
 * so a paymentout body without it cannot be built.
 */
export function paymentBody(p: PaymentData, s: MoyskladSettings, baseUrl: string, connectionId: string): Body {
  const type = paymentTypeOf(p.type);
  const body: Body = {
    organization: metaOf(baseUrl, 'organization', s.organizationId),
    agent: metaOf(baseUrl, 'counterparty', p.contractorRemoteId),
    sum: p.sum,
    moment: momentOfDate(p.date),
    paymentPurpose: cut(p.name, 255),
    description: marker(p.id),
    externalCode: p.id,
    syncId: syncIdOf(connectionId, type, p.id),
  };
  if (s.organizationAccountId) body.organizationAccount = { meta: { href: `${baseUrl.replace(/(?<!\/)\/+$/, '')}/entity/organization/${s.organizationId}/accounts/${s.organizationAccountId}`, type: 'account', mediaType: 'application/json' } };
  if (type === 'paymentout') {
    if (!s.expenseItemId) throw new Error('a paymentout needs the expense item check() sets');
    body.expenseItem = metaOf(baseUrl, 'expenseitem', s.expenseItemId);
  }
  const operations = operationsOf(p, baseUrl);
  if (operations.length > 0) body.operations = operations;
  return body;
}

/** A paymentin/paymentout as RemotePayment; ours when its syncId is the one we would send for its externalCode. */
export function remotePayment(e: Record<string, unknown>, connectionId: string): RemotePayment {
  const type = (e.meta as { type?: string } | undefined)?.type === 'paymentout' ? 'paymentout' : 'paymentin';
  const externalCode = typeof e.externalCode === 'string' ? e.externalCode.toLowerCase() : '';
  const description = typeof e.description === 'string' ? e.description : '';
  const ours = UUID.test(externalCode) && typeof e.syncId === 'string' && e.syncId.toLowerCase() === syncIdOf(connectionId, type, externalCode);
  return {
    remoteId: String(e.id),
    entityId: ours ? externalCode : markerOf(description),
    type: type === 'paymentin' ? 'income' : 'outcome',
    sum: Math.round(Number(e.sum ?? 0)),
    date: typeof e.moment === 'string' ? e.moment.slice(0, 10) : '',
    projectRemoteId: null,
    contractorRemoteId: idOfMeta(e.agent),
    description,
  };
}
