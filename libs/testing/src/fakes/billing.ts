/**
 * A fake billing API (reference 001, finance-targets.md §3 and §7) for finance-sync tests.
 *
 * It answers `GET /api/lite/billing/documents` the way 001 shows it: `{ success, recordsTotal,
 * documents }`, sorted by date descending, with `page`/`size` paging (page base 1 by default,
 * 0 as an option), the `id` (document number), `date_from`, `date_to` (`2020-02-19T12:35:31`,
 * inclusive, in the billing's local time) and `filter_types` filters. Sums are written as decimal
 * text with two decimals (`1000.00`), as 001's sample prints them, or (`sums: 'float'`) as the
 * float rubles 001 and finance-targets §3 say they are, the way a Java/Jackson double prints:
 * `1000.0`, `1.0E7`, and a VAT of 20 % included never rounded (`166.66666666666666`). The fake
 * keeps them as kopecks (an unrounded one as its value rounded half up), so a test compares
 * exactly. Lines keep 001's quirks: `price × amount ≠ totalSum`, negative lines. A real billing
 * may also use a status 001 does not list (`extraStatuses`, or any status given to `insert`)
 * and write a deadline without a time (`deadlines: 'date'`).
 *
 * 001 documents no authentication: the fake wants `Authorization: Bearer <token>` (401 otherwise),
 * the choice finance-sync's billing connector makes. It has no `updatedAt`: {@link FakeBilling.payBills}
 * changes a bill's status and nothing else. Hooks let a test insert documents between page
 * fetches (drift), and fail the N-th page request with a 5xx, a reset or a stall.
 */

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

export const BILLING_DOCUMENT_TYPES = ['BILL', 'EXPENSE', 'REPORT', 'PAYMENT'] as const;
export type BillingDocumentType = (typeof BILLING_DOCUMENT_TYPES)[number];
export const BILLING_STATUSES = ['NEW', 'AWAITING_PAYMENT', 'PARTIALLY_PAID', 'PAID', 'EXPIRED'] as const;
export type BillingStatus = (typeof BILLING_STATUSES)[number];
/** The statuses of a bill that can still change (finance-sync re-scans these). */
export const BILLING_OPEN_STATUSES: readonly BillingStatus[] = ['NEW', 'AWAITING_PAYMENT', 'PARTIALLY_PAID'];

/** A line as the fake holds it; money in kopecks, `amount` as decimal text (a quantity). */
export interface FakeBillingItem {
  num: number;
  title: string;
  description: string | null;
  measure: string | null;
  /** Quantity as decimal text, e.g. `"555.00"`. */
  amount: string;
  price: number;
  totalSum: number;
}

/** A PAYMENT's link to a bill (001 L289-313); `relationSum` in kopecks. */
export interface FakeBillingRelation {
  id: string;
  type: BillingDocumentType;
  title: string;
  date: string;
  relationSum: number;
}

/** A document as the fake holds it: 001's fields, sums in kopecks, dates as 001 prints them (`2021-06-03 15:17:42`). */
export interface FakeBillingDocument {
  id: string;
  type: BillingDocumentType;
  /** EXPENSE only. */
  subType?: 'POSTPAID' | 'PREPAYMENT';
  /**
   * BILL and EXPENSE only (REPORT and PAYMENT have none in 001). One of 001's five, or another a
   * billing may also have (`CANCELLED`): 001's list is a sample, not a promise.
   */
  status?: BillingStatus | (string & {});
  title: string;
  description?: string | null;
  date: string;
  /** `2021-06-17 01:00:00`, or a date alone (`2021-06-17`). */
  deadline?: string;
  vatSum: number;
  totalSum: number;
  balanceSum: number;
  /**
   * How the billing writes a sum when not from its kopecks: a float it never rounded
   * (`166.66666666666666`); the kopecks are then that value rounded half up.
   */
  written?: Partial<Record<'vatSum' | 'totalSum' | 'balanceSum', string>>;
  /** Absent on PAYMENT, as in 001. */
  items?: FakeBillingItem[];
  relations: FakeBillingRelation[];
}

export interface BillingPageRequest {
  /** 1-based count of document-list requests since start (not reset by {@link FakeBilling.clearLog}). */
  n: number;
  page: number;
  size: number;
  dateFrom: string | null;
  dateTo: string | null;
  types: BillingDocumentType[] | null;
  id: string | null;
  /** 200, 400, 401, a 5xx, or 0 for a dropped or stalled request. */
  status: number;
  /** Ids (`TYPE:id`) on the page answered. */
  returned: string[];
  authorized: boolean;
}

export type BillingFault = 500 | 502 | 503 | 'reset' | 'stall';

export interface FakeBillingOptions {
  token?: string;
  /** The page number of the first page: 1 (default) or 0. A page below it is a 400 (`belowBase`). */
  pageBase?: 0 | 1;
  /**
   * What a page below the base answers: 400 (default), 500 (a billing that computes a negative
   * offset and fails) or 'first' (the first page, as a billing that clamps the page number does).
   */
  belowBase?: 400 | 500 | 'first';
  /** Largest `size` (400 above). Default 1000; 001 gives none. */
  maxSize?: number;
  /** Documents generated at start (deterministic from `seed`). Default 0. */
  documents?: number;
  seed?: number;
  /** Generated documents are dated over this many days before `now`. Default 120. */
  spanDays?: number;
  /** The billing's clock; its dates are Moscow local time. Default the real clock. */
  now?: () => Date;
  /**
   * How sums are written: 'decimal' (default; two decimals, `1000.00`, as 001's sample) or
   * 'float' (a Java double: `1000.0`, `1.0E7`, and a generated VAT unrounded, `166.66666666666666`).
   */
  sums?: 'decimal' | 'float';
  /** Statuses outside 001's five that generated bills take now and then (about one in ten), e.g. `['CANCELLED']`. */
  extraStatuses?: readonly string[];
  /** Generated expenses' deadlines: 'time' (default, `2021-06-17 01:00:00`) or 'date' (`2021-06-17`). */
  deadlines?: 'time' | 'date';
}

export interface FakeBilling {
  url: string;
  token: string;
  /** Every document, newest first (the order the list answers in). */
  documents(): FakeBillingDocument[];
  document(type: BillingDocumentType, id: string): FakeBillingDocument | undefined;
  /** Adds generated documents dated `date` (default: now, the billing's clock) and answers them. */
  addDocuments(count: number, o?: { date?: string; types?: BillingDocumentType[] }): FakeBillingDocument[];
  /** Adds a document as given (sums in kopecks). */
  insert(doc: FakeBillingDocument): FakeBillingDocument;
  /**
   * Sets the status of the given bills (or expenses, `type`; default: PAID) and changes nothing
   * else: 001 has no updatedAt. Any status, one 001 does not list (`CANCELLED`) too.
   */
  payBills(ids: string[], status?: BillingStatus | (string & {}), type?: 'BILL' | 'EXPENSE'): void;
  /** Open bills (NEW, AWAITING_PAYMENT, PARTIALLY_PAID), newest first; `olderThan` a date in 001's format. */
  openBills(o?: { olderThan?: string }): FakeBillingDocument[];
  /** Runs before each document-list request is answered (after auth), with the request about to be served. */
  onPage(hook: ((req: BillingPageRequest) => void | Promise<void>) | null): void;
  /** The `nth` document-list request from now on (1 = the next one; 0 = the one being served, from inside onPage) fails as `fault`, `count` times in a row. */
  failRequest(nth: number, fault?: BillingFault, count?: number): void;
  /**
   * Answers at most `n` documents a page whatever `size` asks (pages then count in `n`s: page k
   * starts at k·n), as a billing with its own cap would; null: as asked. 001 states no cap.
   */
  setPageCap(n: number | null): void;
  /**
   * How documents of one second are ordered among themselves: 'stable' (default; by id, then
   * type) or 'shuffled', anew on every request, as a billing ordering by date alone does (001
   * states no tie-break).
   */
  setTieOrder(order: 'stable' | 'shuffled'): void;
  requests(): BillingPageRequest[];
  clearLog(): void;
  close(): Promise<void>;
}

const PATH = '/api/lite/billing/documents';

/** `Date` -> `2021-06-03 15:17:42` in Moscow time (UTC+3, no DST since 2014). */
export function billingDate(d: Date): string {
  return new Date(d.getTime() + 3 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** A seeded PRNG (mulberry32) in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Kopecks as 001 prints sums: `1000.00`, `-1000.00`, `0.07`. */
export function billingMoney(kopecks: number): string {
  const sign = kopecks < 0 ? '-' : '';
  const abs = Math.abs(kopecks);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * A double as Java's Double.toString (and so Jackson) writes it: `1000.0`, `75446.5`,
 * `1.0E7`, `1.2345678E7`, `5.0E-4`, `166.66666666666666`.
 */
export function javaDouble(x: number): string {
  if (x === 0) return '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** The document as 001's JSON text: numbers written as 001 writes them (2 decimals, or float rubles). */
function documentJson(d: FakeBillingDocument, sums: 'decimal' | 'float'): string {
  const money = (k: number) => (sums === 'float' ? javaDouble(k / 100) : billingMoney(k));
  const sum = (name: 'vatSum' | 'totalSum' | 'balanceSum') => d.written?.[name] ?? money(d[name]);
  const str = (v: unknown) => JSON.stringify(v);
  const parts: string[] = [`"id":${str(d.id)}`, `"type":${str(d.type)}`];
  if (d.subType) parts.push(`"subType":${str(d.subType)}`);
  if (d.status) parts.push(`"status":${str(d.status)}`);
  parts.push(`"title":${str(d.title)}`);
  if (d.description !== undefined) parts.push(`"description":${str(d.description)}`);
  parts.push(`"date":${str(d.date)}`);
  if (d.deadline) parts.push(`"deadline":${str(d.deadline)}`);
  parts.push(`"vatSum":${sum('vatSum')}`, `"totalSum":${sum('totalSum')}`, `"balanceSum":${sum('balanceSum')}`);
  if (d.items) {
    const items = d.items.map(
      (i) =>
        `{"num":${i.num},"title":${str(i.title)},"description":${str(i.description)},"measure":${str(i.measure)},"amount":${i.amount},"price":${money(i.price)},"totalSum":${money(i.totalSum)}}`,
    );
    parts.push(`"items":[${items.join(',')}]`);
  }
  const rels = d.relations.map((r) => `{"id":${str(r.id)},"type":${str(r.type)},"title":${str(r.title)},"date":${str(r.date)},"relationSum":${money(r.relationSum)}}`);
  parts.push(`"relations":[${rels.join(',')}]`);
  return `{${parts.join(',')}}`;
}

const key = (type: string, id: string) => `${type}:${id}`;

/** `2020-02-19T12:35:31` (001's filter format; a space is accepted too) -> `2020-02-19 12:35:31`, or null when unreadable. */
function filterDate(v: string | null): string | null | false {
  if (v === null || v === '') return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})$/.exec(v);
  return m ? `${m[1]} ${m[2]}` : false;
}

interface GeneratorStyle {
  sums: 'decimal' | 'float';
  extraStatuses: readonly string[];
  deadlines: 'time' | 'date';
}

class Generator {
  private readonly random: () => number;
  private nextId = 1000;

  constructor(
    seed: number,
    private readonly style: GeneratorStyle = { sums: 'decimal', extraStatuses: [], deadlines: 'time' },
  ) {
    this.random = prng(seed);
  }

  /** VAT 20 % included: in kopecks rounded half up, and (float sums) as the billing writes it, never rounded. */
  private vat(total: number): { vatSum: number; written?: FakeBillingDocument['written'] } {
    const vatSum = Math.round(total / 6);
    return this.style.sums === 'float' && total % 6 !== 0 ? { vatSum, written: { vatSum: javaDouble(total / 600) } } : { vatSum };
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  id(): string {
    this.nextId += this.int(1, 3);
    return String(this.nextId);
  }

  /** 1-4 lines; the total is the lines' sum; some lines' price × amount differs from their total, some are negative. */
  items(): { items: FakeBillingItem[]; total: number } {
    const titles = ['Крепеж бирки', 'Мелкоячеечное хранение', 'Дополнительные работы по запросу Заказчика', 'Сумма аванса 40%', 'Доставка'];
    const measures = ['ед. товара', 'ячейка/сутки', 'час', null];
    const n = this.int(1, 4);
    const items: FakeBillingItem[] = [];
    for (let num = 1; num <= n; num++) {
      const amount = this.int(1, 600);
      const price = this.int(1, 50_000); // kopecks
      // Sums like 1.13 or 0.29 whose float × 100 is not an integer: a `* 100` shows.
      let total = amount * price + (this.random() < 0.3 ? this.pick([13, 29, 57, -7]) : 0);
      if (num === n && n > 1 && this.random() < 0.15) total = -this.int(100, 100_000); // "Сумма переплаты"
      items.push({ num, title: this.pick(titles), description: null, measure: this.pick(measures), amount: `${amount}.00`, price, totalSum: total });
    }
    let sum = items.reduce((s, i) => s + i.totalSum, 0);
    if (sum <= 0) {
      items[0]!.totalSum += 1 - sum + this.int(100, 10_000);
      sum = items.reduce((s, i) => s + i.totalSum, 0);
    }
    return { items, total: sum };
  }

  document(type: BillingDocumentType, date: string, bills: FakeBillingDocument[]): FakeBillingDocument {
    const id = this.id();
    if (type === 'PAYMENT') {
      const targets = bills.filter((b) => b.date <= date).slice(-40);
      const chosen: FakeBillingDocument[] = [];
      for (let i = 0, n = targets.length ? this.int(1, 2) : 0; i < n; i++) {
        const b = this.pick(targets);
        if (!chosen.includes(b)) chosen.push(b);
      }
      const relations = chosen.map((b) => ({ id: b.id, type: 'BILL' as const, title: b.title, date: b.date, relationSum: this.int(1, Math.max(1, b.totalSum)) }));
      const total = relations.reduce((s, r) => s + r.relationSum, 0) || this.int(100, 1_000_000);
      return { id, type, title: 'Поступление', date, vatSum: 0, totalSum: total, balanceSum: 0, relations };
    }
    const { items, total } = this.items();
    if (type === 'BILL') {
      let status: string = this.pick<BillingStatus>(['NEW', 'AWAITING_PAYMENT', 'AWAITING_PAYMENT', 'PARTIALLY_PAID', 'PAID', 'PAID', 'EXPIRED']);
      // Only with extra statuses asked for, so a seed without them generates what it always did.
      if (this.style.extraStatuses.length && this.random() < 0.1) status = this.pick(this.style.extraStatuses);
      return { id, type, status, title: `Счет № ${id}`, date, ...this.vat(total), totalSum: total, balanceSum: status === 'PAID' ? 0 : total, items, relations: [] };
    }
    if (type === 'EXPENSE') {
      const due = billingDate(new Date(Date.parse(`${date.replace(' ', 'T')}+03:00`) + 14 * 86_400_000));
      const deadline = this.style.deadlines === 'date' ? due.slice(0, 10) : due;
      return {
        id,
        type,
        subType: this.pick(['POSTPAID', 'PREPAYMENT'] as const),
        status: this.pick<BillingStatus>(['AWAITING_PAYMENT', 'PAID']),
        title: 'Списание',
        description: 'Оплата за услуги',
        date,
        deadline,
        ...this.vat(total),
        totalSum: total,
        balanceSum: 0,
        items,
        relations: [],
      };
    }
    return { id, type, title: `Акт выполненных работ № ${id}`, date, ...this.vat(total), totalSum: total, balanceSum: 0, items, relations: [] };
  }

  type(): BillingDocumentType {
    const r = this.random();
    return r < 0.4 ? 'BILL' : r < 0.6 ? 'EXPENSE' : r < 0.75 ? 'REPORT' : 'PAYMENT';
  }
}

export async function startFakeBilling(options: FakeBillingOptions = {}): Promise<FakeBilling> {
  const token = options.token ?? `billing-${randomBytes(12).toString('hex')}`;
  const pageBase = options.pageBase ?? 1;
  let pageCap: number | null = null;
  let tieOrder: 'stable' | 'shuffled' = 'stable';
  const shuffle = prng((options.seed ?? 1) + 7919);
  const maxSize = options.maxSize ?? 1000;
  const now = options.now ?? (() => new Date());
  const sums = options.sums ?? 'decimal';
  const gen = new Generator(options.seed ?? 1, { sums, extraStatuses: options.extraStatuses ?? [], deadlines: options.deadlines ?? 'time' });
  /** Newest first; ties keep insertion order reversed (newer insert first), so the order is total and stable. */
  let docs: FakeBillingDocument[] = [];
  const byKey = new Map<string, FakeBillingDocument>();
  const log: BillingPageRequest[] = [];
  let counter = 0;
  let hook: ((req: BillingPageRequest) => void | Promise<void>) | null = null;
  const faults = new Map<number, BillingFault>();
  const sockets = new Set<Socket>();
  const stalled = new Set<ServerResponse>();

  const sort = () => {
    docs.sort((a, b) => (a.date === b.date ? Number(b.id) - Number(a.id) || b.type.localeCompare(a.type) : a.date < b.date ? 1 : -1));
  };
  const insert = (doc: FakeBillingDocument): FakeBillingDocument => {
    const k = key(doc.type, doc.id);
    if (byKey.has(k)) throw new Error(`fake billing: ${k} exists`);
    byKey.set(k, doc);
    docs.push(doc);
    sort();
    return doc;
  };
  const bills = () => docs.filter((d) => d.type === 'BILL').reverse(); // oldest first

  // The seed: dated evenly over spanDays, oldest first, so payments can point at earlier bills.
  const count = options.documents ?? 0;
  const spanMs = (options.spanDays ?? 120) * 86_400_000;
  const start = now().getTime() - spanMs;
  const seeded: FakeBillingDocument[] = [];
  const seedBills: FakeBillingDocument[] = [];
  for (let i = 0; i < count; i++) {
    // Every 7th shares its predecessor's second: equal dates must page stably.
    const at = i % 7 === 6 && seeded.length ? seeded[seeded.length - 1]!.date : billingDate(new Date(start + Math.floor((spanMs * i) / Math.max(1, count))));
    const d = gen.document(gen.type(), at, seedBills);
    seeded.push(d);
    if (d.type === 'BILL') seedBills.push(d);
  }
  for (const d of seeded) {
    byKey.set(key(d.type, d.id), d);
    docs.push(d);
  }
  sort();

  const answer = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const refuse = (res: ServerResponse, status: number, message: string) => answer(res, status, JSON.stringify({ success: false, message }));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-billing');
    if (url.pathname !== PATH) return refuse(res, 404, 'Not found');
    if (req.method !== 'GET') return refuse(res, 405, 'Method not allowed');
    const q = url.searchParams;
    const entry: BillingPageRequest = {
      n: ++counter,
      page: Number(q.get('page') ?? pageBase),
      size: Number(q.get('size') ?? 20),
      dateFrom: q.get('date_from'),
      dateTo: q.get('date_to'),
      types: q.get('filter_types') ? (q.get('filter_types')!.split(',').map((t) => t.trim().toUpperCase()) as BillingDocumentType[]) : null,
      id: q.get('id') || null,
      status: 0,
      returned: [],
      authorized: req.headers.authorization === `Bearer ${token}`,
    };
    log.push(entry);
    if (!entry.authorized) {
      entry.status = 401;
      return refuse(res, 401, 'Unauthorized');
    }
    const from = filterDate(entry.dateFrom);
    const to = filterDate(entry.dateTo);
    if (from === false) return void ((entry.status = 400), refuse(res, 400, 'date_from: expected 2020-02-19T12:35:31'));
    if (to === false) return void ((entry.status = 400), refuse(res, 400, 'date_to: expected 2020-02-19T12:35:31'));
    if (Number.isInteger(entry.page) && entry.page < pageBase && options.belowBase === 500) return void ((entry.status = 500), refuse(res, 500, 'Internal Server Error'));
    const clamped = Number.isInteger(entry.page) && entry.page < pageBase && options.belowBase === 'first';
    if (!Number.isInteger(entry.page) || (entry.page < pageBase && !clamped)) return void ((entry.status = 400), refuse(res, 400, `page: must be an integer from ${pageBase}`));
    if (!Number.isInteger(entry.size) || entry.size < 1 || entry.size > maxSize) return void ((entry.status = 400), refuse(res, 400, `size: must be 1..${maxSize}`));
    if (entry.types?.some((t) => !(BILLING_DOCUMENT_TYPES as readonly string[]).includes(t))) return void ((entry.status = 400), refuse(res, 400, 'filter_types: unknown type'));

    if (hook) await hook(entry);
    const fault = faults.get(entry.n);
    if (fault !== undefined) {
      faults.delete(entry.n);
      if (fault === 'reset') return void req.socket.destroy();
      if (fault === 'stall') return void stalled.add(res);
      entry.status = fault;
      return refuse(res, fault, fault === 503 ? 'Service Unavailable' : 'Internal Server Error');
    }

    const matching = docs.filter(
      (d) => (from === null || d.date >= from) && (to === null || d.date <= to) && (entry.types === null || entry.types.includes(d.type)) && (entry.id === null || d.id === entry.id),
    );
    if (tieOrder === 'shuffled') {
      // Fisher-Yates within each run of equal dates (the list stays newest first).
      for (let start = 0; start < matching.length; ) {
        let end = start + 1;
        while (end < matching.length && matching[end]!.date === matching[start]!.date) end++;
        for (let i = end - 1; i > start; i--) {
          const j = start + Math.floor(shuffle() * (i - start + 1));
          [matching[i], matching[j]] = [matching[j]!, matching[i]!];
        }
        start = end;
      }
    }
    const size = pageCap === null ? entry.size : Math.min(entry.size, pageCap);
    const offset = (clamped ? 0 : entry.page - pageBase) * size;
    const page = matching.slice(offset, offset + size);
    entry.status = 200;
    entry.returned = page.map((d) => key(d.type, d.id));
    answer(res, 200, `{"success":true,"recordsTotal":${matching.length},"documents":[${page.map((d) => documentJson(d, sums)).join(',')}]}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) refuse(res, 500, (err as Error).message);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    documents: () => [...docs],
    document: (type, id) => byKey.get(key(type, id)),
    addDocuments(n, o = {}) {
      const added: FakeBillingDocument[] = [];
      for (let i = 0; i < n; i++) {
        const types = o.types ?? BILLING_DOCUMENT_TYPES;
        let type = gen.type();
        if (!types.includes(type)) type = gen.pick(types);
        added.push(insert(gen.document(type, o.date ?? billingDate(now()), bills())));
      }
      return added;
    },
    insert,
    payBills(ids, status = 'PAID', type = 'BILL') {
      for (const id of ids) {
        const d = byKey.get(key(type, id));
        if (!d) throw new Error(`fake billing: no ${type} ${id}`);
        d.status = status;
      }
    },
    openBills: (o = {}) => docs.filter((d) => d.type === 'BILL' && d.status && BILLING_OPEN_STATUSES.includes(d.status as BillingStatus) && (!o.olderThan || d.date < o.olderThan)),
    onPage(h) {
      hook = h;
    },
    setPageCap(n) {
      pageCap = n;
    },
    setTieOrder(order) {
      tieOrder = order;
    },
    failRequest(nth, fault = 500, times = 1) {
      for (let i = 0; i < times; i++) faults.set(counter + nth + i, fault);
    },
    requests: () => [...log],
    clearLog() {
      log.length = 0;
    },
    async close() {
      for (const res of stalled) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      docs = [];
    },
  };
}
