/**
 * A fake MoySklad JSON API 1.2 (reference 004, finance-targets.md §2 and §7) for finance-sync tests.
 *
 * What it holds: organizations, expense items, counterparties (with their bank accounts),
 * invoiceout, paymentin and paymentout, in memory. What it enforces, as the public docs say:
 * - `Authorization: Bearer <token>`; `Accept-Encoding: gzip` on every request, else 415 with no
 *   body; every JSON answer is gzipped (`Content-Encoding: gzip`);
 * - errors as `{"errors":[{error, code, parameter?, moreInfo}]}` with the documented statuses;
 * - `syncId`: a create carrying a syncId the type already holds answers the existing entity and
 *   creates nothing; an update that changes it is 1047;
 * - bulk arrays (≤ 1000 items, else 413) answered item by item: each item is the entity or its
 *   own `{errors}`;
 * - `paymentout` needs `expenseItem`; `operations[]` only of the types each payment allows;
 * - a rate limit per token (45 or 11 requests per 3 s window) answered 429 / 1049 with the
 *   `X-RateLimit-*` and `X-Lognex-*` headers, and at most 5 requests in parallel per token
 *   (429 / 1073 with `X-Lognex-Auth: 429005`);
 * - the ban rules (over 200 identical failing requests, or over 200 429s, within a minute): the
 *   fake records whether a token crossed them, for a test to assert it never does.
 * Faults a test switches on: commit-then-drop (the write is applied, then the socket is reset),
 * a tariff block (1043, 1070, 30006), 5xx before or after applying.
 *
 * - a document's `sum` is read-only: an `invoiceout`'s is computed from its `positions` (each
 *   `quantity × price`, less its `discount` %, plus its `vat` % when `vatEnabled` and not
 *   `vatIncluded`), so one sent without positions sums to 0, as the real API's would. A position
 *   names an assortment; the fake holds services (`/entity/service`), not products.
 * Where the docs leave it open, the fake decides and says so: a bulk answer is HTTP 200 even when
 * items failed; document names are not checked for uniqueness.
 */

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { seededRandom } from './adesk/format';

export type MoyskladJson = Record<string, unknown>;

/** The entity types the fake serves under `/entity/<type>`. */
export const MOYSKLAD_TYPES = ['organization', 'expenseitem', 'service', 'counterparty', 'invoiceout', 'paymentin', 'paymentout'] as const;
export type MoyskladType = (typeof MOYSKLAD_TYPES)[number];

/** Document types a payment's `operations[]` may name (`_payment_in.md`, `_payment_out.md`). */
export const MOYSKLAD_OPERATION_TYPES: Record<'paymentin' | 'paymentout', readonly string[]> = {
  paymentin: ['customerorder', 'purchasereturn', 'demand', 'invoiceout', 'commissionreportin', 'retailshift'],
  paymentout: ['salesreturn', 'supply', 'invoicein', 'purchaseorder', 'commissionreportout'],
};

/** How a call ended. */
export type MoyskladCallOutcome =
  | 'ok'
  /** A bulk array with at least one failed item (HTTP 200). */
  | 'partial'
  | 'error'
  | 'unauthorized'
  | 'no-gzip'
  | 'rate-limited'
  | 'parallel-limited'
  | 'tariff-blocked'
  | 'server-error'
  | 'dropped';

export interface MoyskladCall {
  method: string;
  /** Path below the API root, e.g. `/entity/paymentin`. */
  path: string;
  /** `/entity/<type>` or `/entity/<type>/:id`, the path when none matched. */
  route: string;
  at: number;
  status: number;
  outcome: MoyskladCallOutcome;
  /** The first error code answered, if any. */
  code?: number;
  /** Whether state changed (true also for a write that was then dropped). */
  committed: boolean;
  /** Items of a bulk array. */
  items?: number;
  token?: string;
}

/** A rate-limit window: `limit` requests per `windowMs`. */
export interface MoyskladRateLimit {
  limit: number;
  windowMs: number;
}

/** What a test asserts about one token's traffic. */
export interface MoyskladTokenStats {
  /** Requests that passed auth. */
  requests: number;
  /** The most requests of this token the fake was handling at once (counted at arrival, refused ones included). */
  maxParallel: number;
  /** Requests that arrived with the window already full (each answered 429 / 1049). */
  bursts: number;
  /** Requests refused for parallelism (429 / 1073). */
  parallelRejections: number;
  /** The most 429 answers within any 60 s. */
  max429PerMinute: number;
  /** The most identical (verb, URL, body) failing requests within any 60 s. */
  maxIdenticalFailuresPerMinute: number;
  /** The most PUTs to one entity within any 60 s. */
  maxPutsPerEntityPerMinute: number;
  /** Whether a ban threshold was crossed (MoySklad would have disabled API access). */
  banned: boolean;
  banReasons: string[];
}

/** What an account starts with. */
export interface MoyskladAccountSeed {
  /** Organizations to start with (default one, «ООО "Папка-Тест"» with one bank account). */
  organizations?: Array<{ name: string; inn?: string; accounts?: string[] }>;
  /** Expense items to start with (default «Закупка товаров», «Прочие расходы»). */
  expenseItems?: string[];
  /** Services to start with (default none). */
  services?: string[];
}

export interface FakeMoyskladOptions extends MoyskladAccountSeed {
  /** Valid Bearer tokens; default one random token. */
  tokens?: string[];
  /** 0 (default) picks a free port. */
  port?: number;
  /** The default window of every token: 45 per 3 s (a solution token). */
  rateLimit?: MoyskladRateLimit;
  /** Per token, its own window (e.g. 11 per 3 s for a user token). */
  tokenRateLimits?: Record<string, MoyskladRateLimit>;
  /** Most requests in parallel per token (default 5). */
  maxParallel?: number;
  /** Ban thresholds per minute (default 200). */
  banThreshold?: number;
  /** Handling time of each request in ms (default 0), so that parallelism shows. */
  latencyMs?: number;
  /** Seed of the fault draws (default 1). */
  seed?: number;
}

/** One MoySklad account: its tokens and its data. */
export interface FakeMoyskladAccount {
  readonly token: string;
  readonly tokens: readonly string[];

  /** Live entities of a type, in creation order (copies, as the API answers them, plus `accounts` rows for counterparties). */
  entities(type: MoyskladType): MoyskladJson[];
  organizations(): MoyskladJson[];
  expenseItems(): MoyskladJson[];
  services(): MoyskladJson[];
  counterparties(): MoyskladJson[];
  invoicesOut(): MoyskladJson[];
  paymentsIn(): MoyskladJson[];
  paymentsOut(): MoyskladJson[];
  /** Creates an entity as a MoySklad user would; answers it. */
  seed(type: MoyskladType, body: MoyskladJson): MoyskladJson;
  /** The traffic counters of a token of this account (default its first). */
  stats(token?: string): MoyskladTokenStats;
}

/** The fake server; itself the first account (the options' tokens and seed). */
export interface FakeMoysklad extends FakeMoyskladAccount {
  /** The API root, e.g. `http://127.0.0.1:PORT/api/remap/1.2` (MOYSKLAD_API_URL). */
  readonly url: string;
  /** Another account with its own tokens (default one random) and data. */
  addAccount(o?: MoyskladAccountSeed & { tokens?: string[] }): FakeMoyskladAccount;

  calls(filter?: { method?: string; route?: string; outcome?: MoyskladCallOutcome; token?: string }): MoyskladCall[];

  /** Sets the window of one token, or of every token without its own. */
  setRateLimit(limit: MoyskladRateLimit, token?: string): void;
  /** For this share (0..1) of writes that changed something: apply, then reset the socket. */
  setCommitThenDrop(ratio: number): void;
  /** For this share (0..1) of calls: answer 500, `before` applying anything (default) or `after`. */
  setServerErrors(ratio: number, when?: 'before' | 'after'): void;
  /** Every call of the token (or of all tokens) answers this tariff error (403), or null to lift it. */
  setTariffBlock(code: 1043 | 1070 | 30006 | null, token?: string): void;
  setLatency(ms: number): void;
  /** Every fault off; data, logs and counters kept. */
  clearFaults(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------

const API_ROOT = '/api/remap/1.2';
const MAX_BULK = 1000;
const MAX_URL = 8 * 1024;
const MAX_BODY = 20 * 1024 * 1024;
const MINUTE = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MOMENT = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{3}))?)?$/;
const MORE_INFO = 'https://dev.moysklad.ru/doc/api/remap/1.2/#error_';

interface MsError {
  error: string;
  code: number;
  parameter?: string;
  moreInfo: string;
}

class Failure extends Error {
  constructor(
    readonly status: number,
    readonly errors: MsError[],
  ) {
    super(errors[0]?.error ?? 'failure');
  }
}

const err = (status: number, code: number, error: string, parameter?: string): Failure =>
  new Failure(status, [{ error, code, ...(parameter ? { parameter } : {}), moreInfo: `${MORE_INFO}${code}` }]);
const required = (field: string): Failure => err(412, 3000, `Ошибка сохранения объекта: поле '${field}' не может быть пустым или отсутствовать`, field);
const wrongType = (field: string, type: string): Failure => err(400, 2016, `Ошибка формата: значение поля '${field}' не соответствует типу ${type}`, field);
const notFound = (type: string, id: string): Failure => err(404, 1021, `Объект с типом '${type}' и идентификатором '${id}' не найден`);

/** `2026-12-01 21:14:03.120` in Moscow time (UTC+3, no DST). */
const mskNow = (): string => new Date(Date.now() + 3 * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');

/** A sliding count per key over the last `span` ms; answers the count including now. */
class SlidingCounter {
  private readonly at = new Map<string, number[]>();
  constructor(private readonly span: number) {}
  hit(key: string, now: number): number {
    const list = (this.at.get(key) ?? []).filter((t) => t > now - this.span);
    list.push(now);
    this.at.set(key, list);
    return list.length;
  }
}


export async function startFakeMoysklad(options: FakeMoyskladOptions = {}): Promise<FakeMoysklad> {
  const tokens = options.tokens && options.tokens.length > 0 ? [...options.tokens] : [`ms-${randomBytes(16).toString('hex')}`];
  const maxParallel = options.maxParallel ?? 5;
  const banThreshold = options.banThreshold ?? 200;
  const random = seededRandom(options.seed ?? 1);
  let defaultLimit: MoyskladRateLimit = options.rateLimit ?? { limit: 45, windowMs: 3_000 };
  const ownLimits = new Map<string, MoyskladRateLimit>(Object.entries(options.tokenRateLimits ?? {}));
  let latencyMs = options.latencyMs ?? 0;
  let dropRatio = 0;
  let errorRatio = 0;
  let errorWhen: 'before' | 'after' = 'before';
  let globalTariff: number | null = null;
  const callLog: MoyskladCall[] = [];
  const states = new Map<string, TokenState>();
  const addToken = (token: string, account: Account): void => {
    if (states.has(token)) throw new Error('fake MoySklad: token already in use');
    states.set(token, {
      token,
      account,
      window: [],
      inFlight: 0,
      tariff: null,
      stats: {
        requests: 0,
        maxParallel: 0,
        bursts: 0,
        parallelRejections: 0,
        max429PerMinute: 0,
        maxIdenticalFailuresPerMinute: 0,
        maxPutsPerEntityPerMinute: 0,
        banned: false,
        banReasons: [],
      },
      fails429: new SlidingCounter(MINUTE),
      identical: new SlidingCounter(MINUTE),
      puts: new SlidingCounter(MINUTE),
    });
  };
  const limitOf = (token: string): MoyskladRateLimit => ownLimits.get(token) ?? defaultLimit;

  // ------------------------------------------------------------------ data
  let base = '';
  /** One MoySklad account: its own data, seeded as the options say. */
  const makeAccount = (seedData: MoyskladAccountSeed) => {
    const store = new Map<MoyskladType, Map<string, MoyskladJson>>(MOYSKLAD_TYPES.map((t) => [t, new Map()]));
    const accounts = new Map<string, MoyskladJson[]>();
    const accountId = randomUUID();
    let docNumber = 0;

    const meta = (type: string, id: string): MoyskladJson => ({
      href: `${base}/entity/${type}/${id}`,
      metadataHref: `${base}/entity/${type}/metadata`,
      type,
      mediaType: 'application/json',
      uuidHref: `https://online.moysklad.ru/app/#${type}/edit?id=${id}`,
    });

    /** The entity a `{meta}` reference names, checked against the wanted types. */
    const resolve = (field: string, value: unknown, types: readonly string[]): MoyskladJson => {
      const m = (value as { meta?: { href?: unknown; type?: unknown } } | null)?.meta;
      if (!m || typeof m !== 'object') throw err(400, 2014, `Ошибка формата: отсутствует meta для поля '${field}'`, field);
      if (typeof m.href !== 'string') throw err(400, 2010, `Ошибка формата: отсутствует href для meta поля '${field}'`, field);
      const match = /\/entity\/([a-z]+)\/([0-9a-f-]{36})$/i.exec(m.href);
      if (!match) throw err(400, 2013, `Ошибка формата: неправильное значение href для meta поля '${field}'`, field);
      const [, type, id] = match;
      if (m.type !== undefined && m.type !== type) throw err(400, 2012, `Ошибка формата: неизвестный type для meta поля '${field}'`, field);
      if (!types.includes(type)) throw err(400, 3007, `Ошибка валидации сохраняемого объекта: '${field}' не может ссылаться на '${type}'`, field);
      const found = store.get(type as MoyskladType)?.get(id.toLowerCase());
      if (!found) throw notFound(type, id);
      return found;
    };

    const str = (body: MoyskladJson, field: string, max: number): string | undefined => {
      const v = body[field];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw wrongType(field, 'String');
      if (v.length > max) throw err(412, 3008, `Ошибка сохранения объекта: значение поля '${field}' превышает максимально допустимое значение`, field);
      return v;
    };

    const normalizeMoment = (v: unknown): string => {
      if (typeof v !== 'string') throw wrongType('moment', 'DateTime');
      const m = MOMENT.exec(v);
      if (!m) throw wrongType('moment', 'DateTime');
      return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6] ?? '00'}.${m[7] ?? '000'}`;
    };

    const sumOf = (v: unknown): number => {
      if (v === undefined || v === null) return 0;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType('sum', 'Float');
      if (v < 0) throw err(412, 3002, `Ошибка сохранения объекта: поле 'sum' не может иметь отрицательное значение`, 'sum');
      return v;
    };

    /** A document's positions as stored: quantity, price (kopecks), discount %, vat %, assortment. */
    const positionsOf = (v: unknown): MoyskladJson[] => {
      if (v === undefined || v === null) return [];
      const rows = Array.isArray(v) ? v : (v as { rows?: unknown }).rows;
      if (!Array.isArray(rows)) throw wrongType('positions', 'Array');
      return rows.map((p: MoyskladJson, i) => {
        const f = `positions[${i}]`;
        if (p?.assortment === undefined || p.assortment === null) throw required(`${f}.assortment`);
        const assortment = resolve(`${f}.assortment`, p.assortment, ['service']);
        const num = (name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number => {
          const x = p[name] ?? dflt;
          if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > max) throw wrongType(`${f}.${name}`, 'Float');
          return x;
        };
        const quantity = num('quantity', 1);
        if (quantity === 0) throw err(412, 3002, `Ошибка сохранения объекта: поле '${f}.quantity' должно быть больше 0`, `${f}.quantity`);
        return { id: randomUUID(), accountId, quantity, price: num('price', 0), discount: num('discount', 0, 100), vat: num('vat', 0, 100), assortment: { meta: assortment.meta } };
      });
    };
    const positionsSum = (rows: MoyskladJson[], vatEnabled: boolean, vatIncluded: boolean): number =>
      rows.reduce((total, p) => {
        const net = Math.round((p.quantity as number) * (p.price as number) * (1 - (p.discount as number) / 100));
        return total + (vatEnabled && !vatIncluded ? Math.round(net * (1 + (p.vat as number) / 100)) : net);
      }, 0);

    const counterpartyAccounts = (v: unknown): MoyskladJson[] => {
      if (v === undefined || v === null) return [];
      const rows = Array.isArray(v) ? v : (v as { rows?: unknown }).rows;
      if (!Array.isArray(rows)) throw wrongType('accounts', 'Array');
      return rows.map((a: MoyskladJson, i) => {
        if (typeof a?.accountNumber !== 'string' || !a.accountNumber) throw required(`accounts[${i}].accountNumber`);
        for (const f of ['bic', 'bankName', 'correspondentAccount']) if (a[f] !== undefined && typeof a[f] !== 'string') throw wrongType(`accounts[${i}].${f}`, 'String');
        const id = randomUUID();
        return { id, accountId, accountNumber: a.accountNumber, ...(a.bic ? { bic: a.bic } : {}), ...(a.bankName ? { bankName: a.bankName } : {}), ...(a.correspondentAccount ? { correspondentAccount: a.correspondentAccount } : {}), isDefault: a.isDefault === true || i === 0 };
      });
    };

    const operationsOf = (type: 'paymentin' | 'paymentout', v: unknown, sum: number): MoyskladJson[] => {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v)) throw wrongType('operations', 'Array');
      return v.map((o: MoyskladJson, i) => {
        const doc = resolve(`operations[${i}]`, o, MOYSKLAD_OPERATION_TYPES[type]);
        const linkedSum = o.linkedSum === undefined ? sum : o.linkedSum;
        if (typeof linkedSum !== 'number' || linkedSum < 0) throw wrongType(`operations[${i}].linkedSum`, 'Float');
        return { meta: doc.meta, linkedSum };
      });
    };

    /** Builds the stored entity of a create; throws a Failure for a refusal. */
    const build = (type: MoyskladType, body: MoyskladJson): MoyskladJson => {
      if (body.id !== undefined || (body.meta as MoyskladJson | undefined)?.href !== undefined) throw err(400, 1006, 'Создание объектов с указанным идентификатором запрещено');
      const syncId = body.syncId;
      if (syncId !== undefined && (typeof syncId !== 'string' || !UUID.test(syncId))) throw wrongType('syncId', 'UUID');
      const id = randomUUID();
      const now = mskNow();
      const e: MoyskladJson = {
        meta: meta(type, id),
        id,
        accountId,
        ...(syncId ? { syncId: (syncId as string).toLowerCase() } : {}),
        updated: now,
        externalCode: str(body, 'externalCode', 255) ?? randomBytes(11).toString('base64url'),
      };
      const description = str(body, 'description', 4096);
      if (description !== undefined) e.description = description;
      switch (type) {
        case 'organization':
        case 'expenseitem':
        case 'service': {
          const name = str(body, 'name', 255);
          if (!name) throw required('name');
          e.name = name;
          break;
        }
        case 'counterparty': {
          const name = str(body, 'name', 255);
          if (!name) throw required('name');
          e.name = name;
          const companyType = body.companyType ?? 'legal';
          if (!['legal', 'entrepreneur', 'individual'].includes(companyType as string)) {
            throw err(412, 3005, `Ошибка сохранения объекта: неверное значение '${String(companyType)}' поля 'companyType'. Допустимые значения: legal, entrepreneur, individual`, 'companyType');
          }
          e.companyType = companyType;
          for (const [f, max] of [['inn', 255], ['kpp', 255], ['ogrn', 255], ['ogrnip', 255], ['legalTitle', 4096], ['legalAddress', 255], ['email', 255], ['phone', 255]] as const) {
            const v = str(body, f, max);
            if (v !== undefined) e[f] = v;
          }
          e.created = now;
          accounts.set(id, counterpartyAccounts(body.accounts));
          break;
        }
        case 'invoiceout':
        case 'paymentin':
        case 'paymentout': {
          if (body.organization === undefined || body.organization === null) throw required('organization');
          if (body.agent === undefined || body.agent === null) throw required('agent');
          e.organization = { meta: resolve('organization', body.organization, ['organization']).meta };
          e.agent = { meta: resolve('agent', body.agent, ['counterparty', 'organization']).meta };
          e.name = str(body, 'name', 255) ?? String(++docNumber).padStart(5, '0');
          e.moment = body.moment === undefined ? mskNow() : normalizeMoment(body.moment);
          e.applicable = body.applicable !== false;
          e.created = now;
          if (body.organizationAccount !== undefined) e.organizationAccount = body.organizationAccount;
          if (type === 'invoiceout') {
            e.vatEnabled = body.vatEnabled !== false;
            e.vatIncluded = body.vatIncluded !== false;
            e.positions = positionsOf(body.positions);
            e.sum = positionsSum(e.positions as MoyskladJson[], e.vatEnabled as boolean, e.vatIncluded as boolean);
            break;
          }
          e.sum = sumOf(body.sum);
          const purpose = str(body, 'paymentPurpose', 255);
          if (purpose !== undefined) e.paymentPurpose = purpose;
          if (type === 'paymentout') {
            if (body.expenseItem === undefined || body.expenseItem === null) throw required('expenseItem');
            e.expenseItem = { meta: resolve('expenseItem', body.expenseItem, ['expenseitem']).meta };
          }
          e.operations = operationsOf(type, body.operations, e.sum as number);
          break;
        }
      }
      return e;
    };

    /** Live entities by `<type>:<syncId>`. */
    const syncIndex = new Map<string, MoyskladJson>();
    const bySyncId = (type: MoyskladType, syncId: unknown): MoyskladJson | undefined => (typeof syncId === 'string' ? syncIndex.get(`${type}:${syncId.toLowerCase()}`) : undefined);
    const put = (type: MoyskladType, e: MoyskladJson): void => {
      store.get(type)!.set(e.id as string, e);
      if (typeof e.syncId === 'string') syncIndex.set(`${type}:${e.syncId}`, e);
    };

    /** An entity as the API answers it (shares the stored values: serialise it or clone it): accounts as a MetaArray, invoice payments from the payments that link it. */
    const view = (type: MoyskladType, e: MoyskladJson, withRows = false): MoyskladJson => {
      const out = { ...e };
      if (type === 'counterparty') {
        const rows = accounts.get(e.id as string) ?? [];
        out.accounts = {
          meta: { href: `${base}/entity/counterparty/${e.id as string}/accounts`, type: 'account', mediaType: 'application/json', size: rows.length, limit: 1000, offset: 0 },
          ...(withRows ? { rows: structuredClone(rows) } : {}),
        };
      }
      if (type === 'invoiceout') {
        const payments: MoyskladJson[] = [];
        let payedSum = 0;
        for (const p of store.get('paymentin')!.values()) {
          for (const op of p.operations as MoyskladJson[]) {
            if ((op.meta as MoyskladJson).href !== (e.meta as MoyskladJson).href) continue;
            payments.push({ meta: p.meta, linkedSum: op.linkedSum });
            payedSum += op.linkedSum as number;
          }
        }
        out.payments = payments;
        out.payedSum = payedSum;
        const rows = (e.positions as MoyskladJson[] | undefined) ?? [];
        out.positions = {
          meta: { href: `${base}/entity/invoiceout/${e.id as string}/positions`, type: 'invoiceposition', mediaType: 'application/json', size: rows.length, limit: 1000, offset: 0 },
          ...(withRows ? { rows: structuredClone(rows) } : {}),
        };
      }
      return out;
    };

    const create = (type: MoyskladType, body: MoyskladJson): { entity: MoyskladJson; created: boolean } => {
      const existing = bySyncId(type, body.syncId);
      if (existing) return { entity: existing, created: false };
      const e = build(type, body);
      put(type, e);
      return { entity: e, created: true };
    };

    const update = (type: MoyskladType, id: string, body: MoyskladJson): MoyskladJson => {
      const e = store.get(type)!.get(id);
      if (!e) throw notFound(type, id);
      if (body.syncId !== undefined && String(body.syncId).toLowerCase() !== e.syncId) throw err(400, 1047, 'Вы не можете обновить поле syncId в запросе на обновление сущности', 'syncId');
      // Validate by building the merged entity, then keep the identity.
      const merged = build(type, { ...stripIdentity(viewForRebuild(type, e)), ...stripIdentity(body), syncId: undefined });
      const next: MoyskladJson = { ...merged, meta: e.meta, id: e.id, created: e.created, updated: mskNow(), ...(e.syncId ? { syncId: e.syncId } : {}) };
      if (type === 'counterparty') {
        // The merged body carried the old accounts unless the update sent its own list.
        accounts.set(id, accounts.get(merged.id as string) ?? []);
        accounts.delete(merged.id as string);
      }
      put(type, next);
      return next;
    };
    const viewForRebuild = (type: MoyskladType, e: MoyskladJson): MoyskladJson => (type === 'counterparty' ? { ...e, accounts: accounts.get(e.id as string) ?? [] } : e);
    const stripIdentity = (b: MoyskladJson): MoyskladJson => {
      const { meta: _m, id: _i, accountId: _a, updated: _u, created: _c, ...rest } = b;
      return rest;
    };

    const remove = (type: MoyskladType, id: string): void => {
      const e = store.get(type)!.get(id);
      if (!e) throw notFound(type, id);
      store.get(type)!.delete(id);
      if (typeof e.syncId === 'string') syncIndex.delete(`${type}:${e.syncId}`);
      accounts.delete(id);
    };

    const FILTERABLE = new Set(['id', 'externalCode', 'syncId', 'name', 'inn', 'kpp', 'companyType', 'moment', 'sum', 'applicable']);
    const list = (type: MoyskladType, q: URLSearchParams): MoyskladJson => {
      let rows = [...store.get(type)!.values()];
      const filter = q.get('filter');
      if (filter) {
        const eq = new Map<string, string[]>();
        const other: Array<(e: MoyskladJson) => boolean> = [];
        for (const part of filter.split(';').filter(Boolean)) {
          const m = /^([A-Za-z]+)(=|!=|>=|<=|>|<)(.*)$/.exec(part);
          if (!m || !FILTERABLE.has(m[1])) throw err(400, 1034, `Ошибка фильтрации: неизвестное поле в '${part}'`, 'filter');
          const [, field, op, raw] = m;
          const value = field === 'moment' ? normalizeMoment(raw) : raw;
          if (op === '=') eq.set(field, [...(eq.get(field) ?? []), field === 'syncId' || field === 'id' ? value.toLowerCase() : value]);
          else {
            const cmp = (e: MoyskladJson): number => {
              const v = e[field];
              if (typeof v === 'number') return v - Number(value);
              const text = String(v ?? '');
              return text < value ? -1 : text > value ? 1 : 0;
            };
            other.push((e) => ({ '!=': cmp(e) !== 0, '>=': cmp(e) >= 0, '<=': cmp(e) <= 0, '>': cmp(e) > 0, '<': cmp(e) < 0 })[op as '!=']);
          }
        }
        // Several `=` conditions on one field are ORed, different fields ANDed (the API's rule).
        rows = rows.filter((e) => [...eq].every(([f, values]) => values.includes(String(e[f] ?? ''))) && other.every((p) => p(e)));
      }
      const limit = Math.min(Number(q.get('limit') ?? 1000) || 1000, 1000);
      const offset = Math.max(Number(q.get('offset') ?? 0) || 0, 0);
      const page = rows.slice(offset, offset + limit);
      return {
        context: { employee: { meta: { href: `${base}/context/employee`, type: 'employee', mediaType: 'application/json' } } },
        meta: {
          href: `${base}/entity/${type}`,
          type,
          mediaType: 'application/json',
          size: rows.length,
          limit,
          offset,
          ...(offset + limit < rows.length ? { nextHref: `${base}/entity/${type}?limit=${limit}&offset=${offset + limit}` } : {}),
        },
        rows: page.map((e) => view(type, e)),
      };
    };

    // ------------------------------------------------------------------ seed
    const seedOne = (type: MoyskladType, body: MoyskladJson): MoyskladJson => {
      const e = build(type, body);
      put(type, e);
      return e;
    };

    // ------------------------------------------------------------------ HTTP
    const handleEntity = (method: string, type: MoyskladType, rest: string[], q: URLSearchParams, json: unknown, commit: () => void): { status: number; body: unknown; partial?: boolean; items?: number } => {
      const [id, sub] = rest;
      if (id === undefined) {
        if (method === 'GET') return { status: 200, body: list(type, q) };
        if (method !== 'POST') throw err(405, 1002, `Неопознанный путь: ${method}`);
        if (Array.isArray(json)) {
          if (json.length > MAX_BULK) throw err(413, 1048, `Превышено ограничение на количество элементов в запросе: ${MAX_BULK}`);
          if (json.length === 0) throw err(400, 1027, 'Запрос не содержит объектов');
          let failed = false;
          const out = json.map((item: unknown) => {
            try {
              if (!item || typeof item !== 'object' || Array.isArray(item)) throw err(400, 2000, 'Ошибка формата: отсутствует начало объекта');
              const r = create(type, item as MoyskladJson);
              if (r.created) commit();
              return view(type, r.entity);
            } catch (e) {
              if (!(e instanceof Failure)) throw e;
              failed = true;
              return { errors: e.errors };
            }
          });
          return { status: 200, body: out, partial: failed, items: json.length };
        }
        if (!json || typeof json !== 'object') throw err(400, 2005, 'Ошибка формата: входящий JSON должен начинаться либо с объекта, либо с массива');
        const r = create(type, json as MoyskladJson);
        if (r.created) commit();
        return { status: 200, body: view(type, r.entity) };
      }
      if (id === 'delete' && method === 'POST') {
        if (!Array.isArray(json)) throw err(400, 2005, 'Ошибка формата: входящий JSON должен начинаться либо с объекта, либо с массива');
        let failed = false;
        const out = json.map((item: unknown, i) => {
          try {
            const e = resolve(`[${i}]`, item, [type]);
            remove(type, e.id as string);
            commit();
            return { info: 'Сущность удалена' };
          } catch (e) {
            if (!(e instanceof Failure)) throw e;
            failed = true;
            return { errors: e.errors };
          }
        });
        return { status: 200, body: out, partial: failed, items: json.length };
      }
      if (id === 'syncid' && sub !== undefined && method === 'DELETE') {
        const e = bySyncId(type, sub);
        if (!e) throw notFound(type, sub);
        remove(type, e.id as string);
        commit();
        return { status: 200, body: undefined };
      }
      if (!UUID.test(id)) throw err(400, 1000, `Элемент URI не является идентификатором: ${id}`);
      const key = id.toLowerCase();
      if (sub === 'accounts' && method === 'GET') {
        if (type !== 'counterparty' && type !== 'organization') throw err(404, 1002, `Неопознанный путь: ${sub}`);
        const e = store.get(type)!.get(key);
        if (!e) throw notFound(type, id);
        const rows = accounts.get(key) ?? [];
        return { status: 200, body: { meta: { href: `${base}/entity/${type}/${key}/accounts`, type: 'account', mediaType: 'application/json', size: rows.length, limit: 1000, offset: 0 }, rows } };
      }
      if (sub !== undefined) throw err(404, 1002, `Неопознанный путь: ${sub}`);
      if (method === 'GET') {
        const e = store.get(type)!.get(key);
        if (!e) throw notFound(type, id);
        return { status: 200, body: view(type, e, q.get('expand') === 'accounts') };
      }
      if (method === 'PUT') {
        if (!json || typeof json !== 'object' || Array.isArray(json)) throw err(400, 2009, 'Ошибка формата: запрос на создание/обновление одной сущности не должен содержать массив');
        const e = update(type, key, json as MoyskladJson);
        commit();
        return { status: 200, body: view(type, e) };
      }
      if (method === 'DELETE') {
        remove(type, key);
        commit();
        return { status: 200, body: undefined };
      }
      throw err(405, 1002, `Неопознанный путь: ${method}`);
    };

    for (const o of seedData.organizations ?? [{ name: 'ООО "Папка-Тест"', inn: '7701234567', accounts: ['40702810900000000001'] }]) {
      const org = seedOne('organization', { name: o.name, ...(o.inn ? { inn: o.inn } : {}) });
      accounts.set(
        org.id as string,
        (o.accounts ?? []).map((n, i) => ({ id: randomUUID(), accountId, accountNumber: n, isDefault: i === 0, meta: { href: `${base}/entity/organization/${org.id as string}/accounts/x`, type: 'account', mediaType: 'application/json' } })),
      );
      for (const a of accounts.get(org.id as string)!) (a.meta as MoyskladJson).href = `${base}/entity/organization/${org.id as string}/accounts/${a.id as string}`;
    }
    for (const name of seedData.expenseItems ?? ['Закупка товаров', 'Прочие расходы']) seedOne('expenseitem', { name });
    for (const name of seedData.services ?? []) seedOne('service', { name });

    const all = (type: MoyskladType): MoyskladJson[] => [...store.get(type)!.values()].map((e) => structuredClone(view(type, e, true)));
    return { handleEntity, seedOne, all, view, accountId };
  };
  type Account = ReturnType<typeof makeAccount>;
  interface TokenState {
    token: string;
    account: Account;
    window: number[];
    inFlight: number;
    tariff: number | null;
    stats: MoyskladTokenStats;
    fails429: SlidingCounter;
    identical: SlidingCounter;
    puts: SlidingCounter;
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake-moysklad');
    const method = req.method ?? 'GET';
    const path = url.pathname.startsWith(API_ROOT) ? url.pathname.slice(API_ROOT.length) : url.pathname;
    const segments = path.split('/').filter(Boolean);
    const route = segments[0] === 'entity' && segments[1] ? `/entity/${segments[1]}${segments[2] ? (UUID.test(segments[2]) ? '/:id' : `/${segments[2]}`) : ''}${segments[3] ? (UUID.test(segments[3]) ? '/:id' : `/${segments[3]}`) : ''}` : path;
    const call: MoyskladCall = { method, path, route, at: Date.now(), status: 0, outcome: 'ok', committed: false };
    let state: TokenState | undefined;
    let counted = false;

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    }
    const raw = Buffer.concat(chunks).toString('utf8');

    const rateHeaders = (): Record<string, string> => {
      if (!state) return {};
      const limit = limitOf(state.token);
      const now = Date.now();
      state.window = state.window.filter((t) => t > now - limit.windowMs);
      const oldest = state.window[0];
      return {
        'x-ratelimit-limit': String(limit.limit),
        'x-ratelimit-remaining': String(Math.max(0, limit.limit - state.window.length)),
        'x-lognex-retry-timeinterval': String(limit.windowMs),
        'x-lognex-reset': String(state.window.length >= limit.limit && oldest !== undefined ? Math.max(0, oldest + limit.windowMs - now) : 0),
      };
    };

    const finish = (status: number, body: unknown, outcome: MoyskladCallOutcome, extra: Record<string, string> = {}): void => {
      call.status = status;
      call.outcome = outcome;
      const errors = (body as { errors?: MsError[] } | undefined)?.errors;
      if (Array.isArray(errors) && errors[0]) call.code = errors[0].code;
      callLog.push(call);
      if (state) {
        if (counted) state.inFlight -= 1;
        trackBan(state, call, `${req.url ?? ''} ${raw}`);
      }
      const headers: Record<string, string> = { ...rateHeaders(), ...extra };
      if (body === undefined) {
        res.writeHead(status, headers);
        res.end();
        return;
      }
      const gz = gzipSync(Buffer.from(JSON.stringify(body), 'utf8'), { level: 1 });
      res.writeHead(status, { ...headers, 'content-type': 'application/json;charset=utf-8', 'content-encoding': 'gzip', 'content-length': String(gz.length) });
      res.end(gz);
    };
    const fail = (f: Failure, outcome: MoyskladCallOutcome = 'error', extra: Record<string, string> = {}): void => finish(f.status, { errors: f.errors }, outcome, extra);

    // 1. Compression is required before anything else is looked at (`_general.md`).
    const enc = String(req.headers['accept-encoding'] ?? '');
    if (!/\bgzip\b/i.test(enc)) return finish(415, undefined, 'no-gzip');
    if (/^online\.moysklad\.ru/i.test(String(req.headers.host ?? ''))) return fail(err(410, 1998, 'Домен online.moysklad.ru в JSON API 1.2 больше не поддерживается'));
    if ((req.url ?? '').length > MAX_URL) return fail(err(414, 1040, 'Превышена допустимая длина URL'));

    // 2. Auth.
    const auth = String(req.headers.authorization ?? '');
    const token = /^Bearer (.+)$/.exec(auth)?.[1];
    state = token ? states.get(token) : undefined;
    if (!state) {
      state = undefined;
      return fail(err(401, 1056, 'Ошибка аутентификации: Неправильный пароль или имя пользователя или ключ авторизации'), 'unauthorized');
    }
    call.token = state.token;
    state.stats.requests += 1;

    // 3. Parallelism, counted at arrival (a refused request was still one in parallel).
    state.inFlight += 1;
    counted = true;
    state.stats.maxParallel = Math.max(state.stats.maxParallel, state.inFlight);
    if (state.inFlight > maxParallel) {
      state.stats.parallelRejections += 1;
      return fail(err(429, 1073, 'Превышено ограничение на одновременное количество запросов'), 'parallel-limited', { 'x-lognex-auth': '429005' });
    }

    // 4. The window.
    const limit = limitOf(state.token);
    const now = Date.now();
    state.window = state.window.filter((t) => t > now - limit.windowMs);
    if (state.window.length >= limit.limit) {
      state.stats.bursts += 1;
      const retryAfter = Math.max(1, state.window[0] + limit.windowMs - now);
      return fail(err(429, 1049, 'Превышено ограничение на количество запросов в единицу времени'), 'rate-limited', { 'x-lognex-retry-after': String(retryAfter) });
    }
    state.window.push(now);

    // 5. Tariff.
    const tariff = state.tariff ?? globalTariff;
    if (tariff !== null) {
      const text: Record<number, string> = {
        1043: 'Ваш тарифный план не позволяет работать с CRM',
        1070: 'Ошибка: ваш тарифный план не позволяет вам работать с данным ресурсом',
        30006: 'Ваш тарифный план не позволяет создавать или обновлять веб-хуки',
      };
      return fail(err(403, tariff, text[tariff] ?? 'Тарифный план'), 'tariff-blocked');
    }

    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));

    const write = method !== 'GET';
    const serverError = errorRatio > 0 && random() < errorRatio;
    if (serverError && (errorWhen === 'before' || !write)) return fail(err(500, 1999, 'При обработке запроса возникла непредвиденная ошибка'), 'server-error');

    if (segments[0] !== 'entity' || !MOYSKLAD_TYPES.includes(segments[1] as MoyskladType)) {
      return fail(segments[0] === 'entity' && segments[1] ? err(412, 1005, `Неизвестный тип: ${segments[1]}`) : err(404, 1002, `Неопознанный путь: ${path}`));
    }
    let json: unknown;
    if (method === 'POST' || method === 'PUT') {
      try {
        json = raw ? JSON.parse(raw) : undefined;
      } catch {
        return fail(err(400, 2001, 'Ошибка формата: входящий запрос не соответствует формату JSON'));
      }
    }
    let result: { status: number; body: unknown; partial?: boolean; items?: number };
    try {
      result = state.account.handleEntity(method, segments[1] as MoyskladType, segments.slice(2), url.searchParams, json, () => {
        call.committed = true;
      });
    } catch (e) {
      if (e instanceof Failure) return fail(e);
      throw e;
    }
    if (result.items !== undefined) call.items = result.items;
    if (call.committed && write) {
      if (serverError) return fail(err(500, 1999, 'При обработке запроса возникла непредвиденная ошибка'), 'server-error');
      if (dropRatio > 0 && random() < dropRatio) {
        call.outcome = 'dropped';
        call.status = 0;
        callLog.push(call);
        state.inFlight -= 1;
        req.socket.resetAndDestroy();
        return;
      }
    }
    finish(result.status, result.body, result.partial ? 'partial' : 'ok');
  };

  /** The ban rules of `_restrictions.md`, counted as the fake answers. */
  /** `request` is the URL (query included) and the body: what makes two requests identical. */
  const trackBan = (s: TokenState, call: MoyskladCall, request: string): void => {
    const now = call.at;
    const ban = (reason: string): void => {
      if (!s.stats.banReasons.includes(reason)) s.stats.banReasons.push(reason);
      s.stats.banned = true;
    };
    if (call.status === 429) {
      const n = s.fails429.hit('all', now);
      s.stats.max429PerMinute = Math.max(s.stats.max429PerMinute, n);
      if (n > banThreshold) ban(`more than ${banThreshold} answers 429 within a minute`);
    }
    if (call.status >= 400) {
      const key = `${call.method} ${createHash('sha1').update(request).digest('hex')}`;
      const n = s.identical.hit(key, now);
      s.stats.maxIdenticalFailuresPerMinute = Math.max(s.stats.maxIdenticalFailuresPerMinute, n);
      if (n > banThreshold) ban(`more than ${banThreshold} identical failing requests within a minute`);
    }
    if (call.method === 'PUT') {
      const n = s.puts.hit(call.path, now);
      s.stats.maxPutsPerEntityPerMinute = Math.max(s.stats.maxPutsPerEntityPerMinute, n);
      if (n > 100) ban('more than 100 PUTs to one entity within a minute');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake MoySklad crashed: ${e instanceof Error ? e.stack : String(e)}`);
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}${API_ROOT}`;

  const accountView = (acct: Account, accountTokens: string[]): FakeMoyskladAccount => ({
    token: accountTokens[0]!,
    tokens: accountTokens,
    entities: (type) => acct.all(type),
    organizations: () => acct.all('organization'),
    expenseItems: () => acct.all('expenseitem'),
    services: () => acct.all('service'),
    counterparties: () => acct.all('counterparty'),
    invoicesOut: () => acct.all('invoiceout'),
    paymentsIn: () => acct.all('paymentin'),
    paymentsOut: () => acct.all('paymentout'),
    seed: (type, body) => structuredClone(acct.view(type, acct.seedOne(type, body), true)),
    stats: (token) => structuredClone(stateOf(token ?? accountTokens[0]).stats),
  });
  const main = makeAccount(options);
  for (const t of tokens) addToken(t, main);
  const mainView = accountView(main, tokens);

  const stateOf = (token?: string): TokenState => {
    const s = states.get(token ?? tokens[0]);
    if (!s) throw new Error('fake MoySklad: unknown token');
    return s;
  };

  return {
    ...mainView,
    url: base,
    addAccount: (o = {}) => {
      const accountTokens = o.tokens && o.tokens.length > 0 ? [...o.tokens] : [`ms-${randomBytes(16).toString('hex')}`];
      const acct = makeAccount(o);
      for (const t of accountTokens) addToken(t, acct);
      return accountView(acct, accountTokens);
    },
    calls: (f = {}) =>
      callLog
        .filter((c) => (f.method === undefined || c.method === f.method) && (f.route === undefined || c.route === f.route || c.path === f.route) && (f.outcome === undefined || c.outcome === f.outcome) && (f.token === undefined || c.token === f.token))
        .map((c) => ({ ...c })),
    setRateLimit: (limit, token) => {
      if (token) ownLimits.set(stateOf(token).token, limit);
      else defaultLimit = limit;
    },
    setCommitThenDrop: (ratio) => {
      dropRatio = ratio;
    },
    setServerErrors: (ratio, when = 'before') => {
      errorRatio = ratio;
      errorWhen = when;
    },
    setTariffBlock: (code, token) => {
      if (token) stateOf(token).tariff = code;
      else {
        globalTariff = code;
        if (code === null) for (const s of states.values()) s.tariff = null;
      }
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    clearFaults: () => {
      dropRatio = 0;
      errorRatio = 0;
      globalTariff = null;
      for (const s of states.values()) s.tariff = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
