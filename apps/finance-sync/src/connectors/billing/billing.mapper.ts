/*
 * 001's document list read without floating point. The billing answers sums as JSON numbers
 * (`"totalSum": 75446.00`); JSON.parse would make them floats, so the sums are taken from the
 * answer's own text: numbersAsText rewrites every number token into a string of its digits first.
 * Pure.
 */
import { ConnectorError } from '../connector';

export const BILLING_TYPES = ['BILL', 'EXPENSE', 'REPORT', 'PAYMENT'] as const;
export type BillingType = (typeof BILLING_TYPES)[number];
export const BILLING_STATUSES = ['NEW', 'AWAITING_PAYMENT', 'PARTIALLY_PAID', 'PAID', 'EXPIRED'] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];
/**
 * A document in one of these can still change: 001 has no updatedAt, so they are re-read every
 * run. EXPIRED too (a late payment makes it PAID); BILL and EXPENSE are the types with a status.
 */
export const OPEN_STATUSES: readonly BillingStatus[] = ['NEW', 'AWAITING_PAYMENT', 'PARTIALLY_PAID', 'EXPIRED'];
export const TYPES_WITH_STATUS: readonly BillingType[] = ['BILL', 'EXPENSE'];

export interface RemoteBillingItem {
  num: number;
  title: string | null;
  description: string | null;
  measure: string | null;
  /** The quantity as the billing wrote it (`"555.00"`), or null. */
  amount: string | null;
  /** Kopecks, or null when absent. */
  price: number | null;
  /** Kopecks, as given. */
  totalSum: number;
}

export interface RemoteBillingRelation {
  id: string;
  type: string;
  title: string | null;
  date: string | null;
  /** Kopecks. */
  relationSum: number;
}

/** One 001 document: its fields, sums in kopecks, and the object as the billing sent it. */
export interface RemoteBillingDocument {
  id: string;
  type: BillingType;
  subType: string | null;
  status: BillingStatus | null;
  title: string | null;
  description: string | null;
  /** `2021-06-03 15:17:42`: 001's format, the billing's local time. */
  date: string;
  deadline: string | null;
  vatSum: number;
  totalSum: number;
  balanceSum: number;
  items: RemoteBillingItem[];
  relations: RemoteBillingRelation[];
  /** The document as 001 gave it (numbers as JSON numbers): kept as is. */
  raw: Record<string, unknown>;
}

export interface BillingPage {
  /** 001's `recordsTotal`: every document the filters match; null when the answer has none. */
  recordsTotal: number | null;
  documents: RemoteBillingDocument[];
}

/**
 * The JSON text with every number token (outside strings) turned into a string of the same
 * characters: `{"a":1.10}` -> `{"a":"1.10"}`. Strings and escapes are copied untouched.
 */
export function numbersAsText(json: string): string {
  let out = '';
  let i = 0;
  const n = json.length;
  while (i < n) {
    const c = json[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      out += json.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < n && /[0-9eE.+-]/.test(json[j]!)) j++;
      out += `"${json.slice(i, j)}"`;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Kopecks from a decimal text (`"75446.00"`, `"-1000"`, `"0.5"`). Stricter than
 * decimalToKopecks: a third decimal that is not 0 is an error rather than cut, and so is an
 * exponent, a comma or anything else; a sum is never rounded.
 */
export function strictKopecks(text: string, field: string): number {
  const m = /^(-?)(\d+)(?:\.(\d{1,2})0*)?$/.exec(text);
  if (!m) throw new ConnectorError('rejected', `${field}: ${JSON.stringify(text).slice(0, 40)} is not an amount with at most 2 decimals`, 'GET /api/lite/billing/documents');
  const kopecks = BigInt(m[2]!) * 100n + BigInt((m[3] ?? '').padEnd(2, '0'));
  if (kopecks > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConnectorError('rejected', `${field}: ${text} is too large`, 'GET /api/lite/billing/documents');
  return Number(m[1] ? -kopecks : kopecks);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const DATE = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/;

function unreadable(what: string): ConnectorError {
  return new ConnectorError('rejected', `the billing answered an unreadable document list: ${what}`, 'GET /api/lite/billing/documents');
}

/** `2021-06-03 15:17:42` (a `T` is taken too), or null for an absent one. */
function date(v: unknown, field: string, required: boolean): string | null {
  if (v === null || v === undefined || v === '') {
    if (required) throw unreadable(`${field} is missing`);
    return null;
  }
  const m = DATE.exec(String(v));
  if (!m) throw unreadable(`${field} ${JSON.stringify(v).slice(0, 40)} is not a date`);
  return `${m[1]} ${m[2]}`;
}

/** A sum field; `digits` is the same object with numbers as their text. Absent counts as 0 where `zero`. */
function money(digits: Obj, name: string, where: string, zero = true): number | null {
  const v = digits[name];
  if (v === null || v === undefined) {
    if (zero) return 0;
    return null;
  }
  return strictKopecks(String(v), `${where}.${name}`);
}

/** Parses one answer of `GET /api/lite/billing/documents` from its raw text. */
export function parseDocumentsPage(body: string): BillingPage {
  let raw: unknown;
  let digits: unknown;
  try {
    raw = JSON.parse(body);
    digits = JSON.parse(numbersAsText(body));
  } catch {
    throw unreadable('not JSON');
  }
  if (!isObj(raw) || !isObj(digits)) throw unreadable('not an object');
  if (raw.success === false) {
    throw new ConnectorError('rejected', `the billing refused the request: ${String(raw.message ?? raw.error ?? 'success: false').slice(0, 200)}`, 'GET /api/lite/billing/documents');
  }
  if (!Array.isArray(raw.documents) || !Array.isArray(digits.documents)) throw unreadable('no documents array');
  const total = Number(raw.recordsTotal);
  const documents = raw.documents.map((d, i) => document(d, (digits as { documents: unknown[] }).documents[i], `documents.${i}`));
  return { recordsTotal: raw.recordsTotal !== undefined && raw.recordsTotal !== null && Number.isInteger(total) && total >= 0 ? total : null, documents };
}

function document(raw: unknown, digits: unknown, where: string): RemoteBillingDocument {
  if (!isObj(raw) || !isObj(digits)) throw unreadable(`${where} is not an object`);
  const id = text(digits.id);
  if (!id) throw unreadable(`${where}.id is missing`);
  const type = String(raw.type ?? '') as BillingType;
  if (!BILLING_TYPES.includes(type)) throw unreadable(`${where}.type ${JSON.stringify(raw.type)} is not one of ${BILLING_TYPES.join(', ')}`);
  const status = raw.status === null || raw.status === undefined || raw.status === '' ? null : (String(raw.status) as BillingStatus);
  if (status !== null && !BILLING_STATUSES.includes(status)) throw unreadable(`${where}.status ${JSON.stringify(raw.status)} is not one of ${BILLING_STATUSES.join(', ')}`);
  const items = Array.isArray(digits.items) ? digits.items : [];
  const relations = Array.isArray(digits.relations) ? digits.relations : [];
  return {
    id,
    type,
    subType: text(raw.subType),
    status,
    title: text(raw.title),
    description: text(raw.description),
    date: date(raw.date, `${where}.date`, true)!,
    deadline: date(raw.deadline, `${where}.deadline`, false),
    vatSum: money(digits, 'vatSum', where)!,
    totalSum: money(digits, 'totalSum', where)!,
    balanceSum: money(digits, 'balanceSum', where)!,
    items: items.map((it, k) => {
      const w = `${where}.items.${k}`;
      if (!isObj(it)) throw unreadable(`${w} is not an object`);
      return {
        num: Number.isInteger(Number(it.num)) ? Number(it.num) : k + 1,
        title: text(it.title),
        description: text(it.description),
        measure: text(it.measure),
        amount: it.amount === null || it.amount === undefined ? null : String(it.amount),
        price: money(it, 'price', w, false),
        totalSum: money(it, 'totalSum', w)!,
      };
    }),
    relations: relations.map((r, k) => {
      const w = `${where}.relations.${k}`;
      if (!isObj(r) || !text(r.id)) throw unreadable(`${w} has no id`);
      return { id: text(r.id)!, type: String(r.type ?? 'BILL'), title: text(r.title), date: date(r.date, `${w}.date`, false), relationSum: money(r, 'relationSum', w)! };
    }),
    raw,
  };
}

/** A moment as 001's filter wants it: `2020-02-19T12:35:31`, Moscow time (UTC+3, no DST since 2014). */
export function filterDate(at: Date): string {
  return new Date(at.getTime() + 3 * 3600_000).toISOString().slice(0, 19);
}

/** 001's `2021-06-03 15:17:42` (Moscow time) as a moment. */
export function billingMoment(d: string): Date {
  return new Date(`${d.replace(' ', 'T')}+03:00`);
}
