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
  /** 001's format, or a date alone (`2021-06-17`) where the billing gives no time. */
  deadline: string | null;
  vatSum: number;
  totalSum: number;
  balanceSum: number;
  items: RemoteBillingItem[];
  relations: RemoteBillingRelation[];
  /** The document as 001 gave it (numbers as JSON numbers): kept as is. */
  raw: Record<string, unknown>;
}

/** One document of a page as far as it is known: a rejected one may lack any of these. */
export interface BillingPageEntry {
  type: string | null;
  id: string | null;
  /** 001's format (`2021-06-03 15:17:42`), or null when unreadable. */
  date: string | null;
}

/** A document of a page that could not be mapped: set aside (quarantined) with its reason, the rest of the page is read. */
export interface RejectedBillingDocument extends BillingPageEntry {
  /** Its place on the page (0-based). */
  position: number;
  /** Why, naming the field: `status "CANCELLED" is not one of ...`. */
  reason: string;
  /** The document as the billing sent it (numbers as JSON numbers). */
  raw: unknown;
}

export interface BillingPage {
  /** 001's `recordsTotal`: every document the filters match; null when the answer has none. */
  recordsTotal: number | null;
  /** The documents that were mapped, in page order. */
  documents: RemoteBillingDocument[];
  /** The documents that could not be mapped, in page order. */
  rejected: RejectedBillingDocument[];
  /** Every document of the page in its order, mapped or not: what paging counts. */
  entries: BillingPageEntry[];
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

/** An amount as a JSON number may write it: `75446.00`, `-1000`, `1000.0`, `1.0E7`, `166.66666666666666`. */
const AMOUNT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
/** Longer than any number a billing prints (a double is at most ~25 characters); bounds the BigInt work. */
const MAX_AMOUNT_TEXT = 100;
const MAX_KOPECKS = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Kopecks from the text of a sum in rubles. 001 and finance-targets §3 give sums as **float
 * rubles**, so besides `"75446.00"` a billing may write a Java/Jackson double: an exponent
 * (`1.0E7` for 10 000 000 ₽) or an unrounded value (`166.66666666666666`, a VAT of 1000/6).
 * The value is taken exactly from the decimal text with BigInt arithmetic (never through a
 * float, never `* 100`) and rounded to whole kopecks half up (a half kopeck away from zero:
 * `1.005` is 101, `-0.005` is -1). A comma, an empty or any other text is an error, and so is
 * a sum beyond Number.MAX_SAFE_INTEGER kopecks.
 */
export function rublesToKopecks(text: string, field: string): number {
  const m = text.length <= MAX_AMOUNT_TEXT ? AMOUNT.exec(text) : null;
  if (!m) throw new ConnectorError('rejected', `${field}: ${JSON.stringify(text).slice(0, 40)} is not an amount`, 'GET /api/lite/billing/documents');
  const tooLarge = () => new ConnectorError('rejected', `${field}: ${text.slice(0, 40)} is too large`, 'GET /api/lite/billing/documents');
  const fraction = m[3] ?? '';
  // The value is digits × 10^(exponent − fraction length) rubles, so kopecks = digits × 10^shift.
  const digits = (m[2]! + fraction).replace(/^0+/, '');
  const shift = Number(m[4] ?? '0') - fraction.length + 2;
  let kopecks: bigint;
  if (digits === '') kopecks = 0n;
  else if (shift >= 0) {
    if (digits.length + shift > 20) throw tooLarge();
    kopecks = BigInt(digits) * 10n ** BigInt(shift);
  } else if (-shift > digits.length) {
    kopecks = 0n; // under a tenth of a kopeck
  } else {
    const unit = 10n ** BigInt(-shift);
    const d = BigInt(digits);
    kopecks = d / unit + (2n * (d % unit) >= unit ? 1n : 0n);
  }
  if (kopecks > MAX_KOPECKS) throw tooLarge();
  return m[1] && kopecks !== 0n ? -Number(kopecks) : Number(kopecks);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const DATE = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function unreadable(what: string): ConnectorError {
  return new ConnectorError('rejected', `the billing answered an unreadable document list: ${what}`, 'GET /api/lite/billing/documents');
}

/** One document the parser cannot map; the rest of its page is read (see `parseDocumentsPage`). */
class Unmappable extends Error {}

/**
 * `2021-06-03 15:17:42` (a `T` is taken too), or null for an absent one. Where `dayOnly`, a
 * date without a time (`2021-06-17`, a deadline) is taken as it is: no time is made up for it.
 */
function date(v: unknown, field: string, required: boolean, dayOnly = false): string | null {
  if (v === null || v === undefined || v === '') {
    if (required) throw new Unmappable(`${field} is missing`);
    return null;
  }
  const s = String(v);
  if (dayOnly && DAY.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`))) return s;
  const m = DATE.exec(s);
  if (!m || Number.isNaN(Date.parse(`${m[1]}T${m[2]}Z`))) throw new Unmappable(`${field} ${JSON.stringify(v).slice(0, 40)} is not a date`);
  return `${m[1]} ${m[2]}`;
}

/** A sum field; `digits` is the same object with numbers as their text. Absent counts as 0 where `zero`. */
function money(digits: Obj, name: string, where: string, zero = true): number | null {
  const v = digits[name];
  if (v === null || v === undefined) {
    if (zero) return 0;
    return null;
  }
  try {
    return rublesToKopecks(String(v), `${where}${name}`);
  } catch (err) {
    if (err instanceof ConnectorError) throw new Unmappable(err.message);
    throw err;
  }
}

/**
 * Parses one answer of `GET /api/lite/billing/documents` from its raw text. An answer that is
 * not a document list throws (`rejected`). A document in it that cannot be mapped (a type or a
 * status 001 does not list, no id, an unreadable date or sum) does not fail the page: it is
 * answered in `rejected` with its reason, and the other documents are read.
 */
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
  const documents: RemoteBillingDocument[] = [];
  const rejected: RejectedBillingDocument[] = [];
  const entries: BillingPageEntry[] = [];
  const digitDocs = digits.documents as unknown[];
  raw.documents.forEach((d: unknown, position) => {
    try {
      const doc = document(d, digitDocs[position]);
      documents.push(doc);
      entries.push({ type: doc.type, id: doc.id, date: doc.date });
    } catch (err) {
      if (!(err instanceof Unmappable)) throw err;
      const entry = identify(d, digitDocs[position]);
      rejected.push({ ...entry, position, reason: err.message.slice(0, 500), raw: d });
      entries.push(entry);
    }
  });
  return { recordsTotal: raw.recordsTotal !== undefined && raw.recordsTotal !== null && Number.isInteger(total) && total >= 0 ? total : null, documents, rejected, entries };
}

/** What can be told of a document that could not be mapped: its type, id and date as far as they are readable. */
function identify(raw: unknown, digits: unknown): BillingPageEntry {
  if (!isObj(raw) || !isObj(digits)) return { type: null, id: null, date: null };
  const type = typeof raw.type === 'string' && raw.type !== '' ? raw.type.slice(0, 100) : null;
  const id = text(digits.id)?.slice(0, 200) || null;
  let at: string | null = null;
  try {
    at = date(raw.date, 'date', false);
  } catch {
    at = null;
  }
  return { type, id, date: at };
}

function document(raw: unknown, digits: unknown): RemoteBillingDocument {
  if (!isObj(raw) || !isObj(digits)) throw new Unmappable('the document is not an object');
  const id = text(digits.id);
  if (!id) throw new Unmappable('id is missing');
  const type = String(raw.type ?? '') as BillingType;
  if (!BILLING_TYPES.includes(type)) throw new Unmappable(`type ${JSON.stringify(raw.type)} is not one of ${BILLING_TYPES.join(', ')}`);
  const status = raw.status === null || raw.status === undefined || raw.status === '' ? null : (String(raw.status) as BillingStatus);
  if (status !== null && !BILLING_STATUSES.includes(status)) throw new Unmappable(`status ${JSON.stringify(raw.status)} is not one of ${BILLING_STATUSES.join(', ')}`);
  const items = Array.isArray(digits.items) ? digits.items : [];
  const relations = Array.isArray(digits.relations) ? digits.relations : [];
  return {
    id,
    type,
    subType: text(raw.subType),
    status,
    title: text(raw.title),
    description: text(raw.description),
    date: date(raw.date, 'date', true)!,
    deadline: date(raw.deadline, 'deadline', false, true),
    vatSum: money(digits, 'vatSum', '')!,
    totalSum: money(digits, 'totalSum', '')!,
    balanceSum: money(digits, 'balanceSum', '')!,
    items: items.map((it, k) => {
      const w = `items.${k}.`;
      if (!isObj(it)) throw new Unmappable(`items.${k} is not an object`);
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
      const w = `relations.${k}.`;
      if (!isObj(r) || !text(r.id)) throw new Unmappable(`relations.${k} has no id`);
      return { id: text(r.id)!, type: String(r.type ?? 'BILL'), title: text(r.title), date: date(r.date, `${w}date`, false, true), relationSum: money(r, 'relationSum', w)! };
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
