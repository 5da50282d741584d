/** Papka documents and payments to 003's AddOrUpdateExtDoc bodies. Pure. */
import { createHash } from 'node:crypto';
import { formatRuDateShort } from '@papka/ru';
import { ConnectorError, type DocumentData, type DocumentKind, type DocumentPayment, type PaymentData } from '../connector';

/** 003's DocTypeId table (L24-50), the ones Papka's kinds map to by default. */
export const DEFAULT_DOC_TYPE_IDS: Readonly<Record<DocumentKind | 'other', number>> = { invoice: 6, act: 2, contract: 4, letter: 12, other: 13 };
/** Every DocTypeId 003 lists: an override must be one of them. */
export const DMS_DOC_TYPE_IDS: readonly number[] = [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22];

export type AmountUnit = 'rubles' | 'kopecks';

/** The account's own organisation: 003's `Organization`, lower-case keys but `Ext_ID`. */
export interface DmsOrganization {
  Ext_ID: string;
  name: string;
  inn: string;
  kpp?: string;
}

export interface DmsSettings {
  baseUrl: string;
  authHeader: string;
  amountUnit: AmountUnit;
  docTypeIds: Record<DocumentKind | 'other', number>;
  /** Used when the engine has no organisation for the account (see DmsConnector). */
  organization: { name: string; inn: string; kpp?: string; extId?: string } | null;
  documentPath: string;
  paymentPath: string;
}

/** Stands in the JSON text for `Binaries.FileBase64` until the file is streamed in its place. */
export const FILE_MARKER = '\u0000papka-dms-file\u0000';

const INT32_MAX = 2_147_483_647;
/** 003 has no number for an unnumbered document; "б/н" (без номера) is how Russian paperwork writes it. */
export const NO_NUMBER = 'б/н';

/** RFC 4122 UUID version 5 (SHA-1, name-based) in this namespace. */
const NAMESPACE = Buffer.from('6f0d6d4f5c1a4e4b9b6e2d7a1c3b5e90', 'hex');

export function uuidV5(name: string, namespace: Buffer = NAMESPACE): string {
  const b = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`.toUpperCase();
}

/**
 * 003's RequestID: deterministic per connection, entity and content, so a retry of the same
 * content sends the same id and changed content a new one. Upper case, as 003's example.
 */
export const requestIdOf = (connectionId: string, entityId: string, contentHash: string): string => uuidV5(`${connectionId}:${entityId}:${contentHash}`);

const hash = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 32);

/** `dd.MM.yyyy` in Moscow time: a calendar date as is, an instant shifted to UTC+3. */
export function dmsDate(value: string): string {
  return formatRuDateShort(value);
}

/**
 * `Amount` in the connection's unit. 003 says int32 and nothing about the unit: rubles (the
 * default) round half away from zero to whole rubles; kopecks are exact but cap at 21.4 M ₽.
 */
export function amountOf(kopecks: number, unit: AmountUnit, what = 'Amount'): number {
  if (!Number.isSafeInteger(kopecks)) throw new ConnectorError('rejected', `${what}: ${kopecks} is not a whole number of kopecks`, 'settings.amountUnit');
  const value = unit === 'kopecks' ? kopecks : Math.sign(kopecks) * Math.round(Math.abs(kopecks) / 100);
  if (Math.abs(value) > INT32_MAX) {
    throw new ConnectorError('rejected', `${what}: ${value} ${unit} is over 003's int32 limit${unit === 'kopecks' ? ' (21 474 836.47 ₽ in kopecks; settings.amountUnit rubles takes more)' : ''}`, 'settings.amountUnit');
  }
  return value;
}

const maskText = (v: unknown): string | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v.trim() ? v.trim() : null;
};

/** DocNumber: the `number` mask, else "б/н". */
export const docNumberOf = (d: Pick<DocumentData, 'masks'>): string => (maskText(d.masks.number) ?? NO_NUMBER).slice(0, 100);

/** DocDate: the `date` mask (a Moscow calendar date), else the day it was created in Moscow. */
export function docDateOf(d: Pick<DocumentData, 'masks' | 'createdAt'>): string {
  const mask = maskText(d.masks.date);
  if (mask) {
    try {
      return dmsDate(mask);
    } catch {
      // an unreadable mask falls back to createdAt
    }
  }
  return dmsDate(d.createdAt);
}

export const docTypeIdOf = (kind: DocumentKind | null, ids: DmsSettings['docTypeIds']): number => ids[kind ?? 'other'];

/** DocumentStatus 3 (signed) and 4 (paid) are signed documents; 003's `Signed`. */
export const isSigned = (status: number): boolean => status === 3 || status === 4;

export interface BodyContext {
  connectionId: string;
  settings: DmsSettings;
  organization: DmsOrganization;
  /** Set for the one resend after a 400: the same content under a RequestID of its own. */
  again?: boolean;
}

export function contractorOf(d: DocumentData): Record<string, string> {
  const c = d.contractor;
  if (!c) throw new ConnectorError('rejected', 'the document has no contractor (003 requires one)', 'document');
  return { Ext_ID: c.id, ...(c.inn ? { INN: c.inn } : {}), Name: c.name, ...(c.kpp ? { KPP: c.kpp } : {}) };
}

/** The fields a document and the payment of an invoice share (003 L1-238), RequestID and Binaries aside. */
function common(d: DocumentData, ctx: BodyContext): Record<string, unknown> {
  return {
    Ext_ID: d.id,
    DocDate: docDateOf(d),
    DocNumber: docNumberOf(d),
    DocTypeId: docTypeIdOf(d.kind, ctx.settings.docTypeIds),
    Source: 'Исходящий',
    // 003's example says RUR (the old code), although it claims ISO 4217.
    Currency: 'RUR',
    Amount: amountOf(d.sum, ctx.settings.amountUnit),
    Contractor: contractorOf(d),
    Organization: ctx.organization,
    ...(d.contractDocumentId ? { Contract: { Ext_ID: d.contractDocumentId } } : {}),
    Signed: isSigned(d.status),
  };
}

/**
 * What 003's invoice-payment call adds to the invoice's fields: PaymentNumber (the payment's
 * name, else its id), PaymentDate, and Signed: a paid invoice was agreed to, the payment is the
 * counterparty's signature in deed.
 */
function paymentFields(p: Pick<DocumentPayment, 'id' | 'name' | 'date'>): Record<string, unknown> {
  return { PaymentNumber: (p.name.trim() || p.id).slice(0, 100), PaymentDate: dmsDate(p.date), Signed: true };
}

/**
 * A rendered document: its fields, and `Binaries.FileBase64` as FILE_MARKER for the client to
 * stream the PDF into. RequestID from the document's content hash and the body's own settings
 * (a changed amountUnit or DocTypeId is changed content too). A paid invoice (`d.payment`, the
 * payment that pays it in full) carries what the payment call sends too, PaymentNumber,
 * PaymentDate and Signed: true, so that sending it again after the payment (a rename, a new
 * render) leaves the record signed and paid, on a DMS whose upsert replaces the record as well.
 */
export function documentBody(d: DocumentData, ctx: BodyContext): Record<string, unknown> {
  const fields = { ...common(d, ctx), ...(d.payment ? paymentFields(d.payment) : {}) };
  return {
    ...fields,
    RequestID: requestIdOf(ctx.connectionId, d.id, hash([d.contentHash, fields, ...(ctx.again ? ['again'] : [])])),
    Binaries: { FileName: d.filename ?? `${d.id}.pdf`, FileBase64: FILE_MARKER },
  };
}

/**
 * 003's invoice-payment call: the invoice's record (same Ext_ID: the upsert updates it, it does
 * not add one) with PaymentNumber, PaymentDate and Signed. The PDF went with the document, so
 * Binaries is empty, as in 003's example (L235-238).
 */
export function paymentBody(p: PaymentData, invoice: DocumentData, ctx: BodyContext): Record<string, unknown> {
  const fields = { ...common(invoice, ctx), ...paymentFields(p) };
  return { ...fields, RequestID: requestIdOf(ctx.connectionId, p.id, hash([p.sum, p.date, p.name, fields, ...(ctx.again ? ['again'] : [])])), Binaries: { FileName: '', FileBase64: '' } };
}
