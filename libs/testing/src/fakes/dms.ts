/**
 * A fake document-management system (reference 003, finance-targets.md §3 and §7) for
 * finance-sync tests.
 *
 * It answers `AddOrUpdateExtDoc` the way 003 documents it: a JSON body with `Ext_ID`,
 * `DocDate`/`PaymentDate` as `dd.MM.yyyy`, `DocTypeId` from 003's table, `Source`, a GUID
 * `RequestID`, int32 `Amount`/`AmountWOVAT`/`VAT`, `Contractor {Ext_ID, INN, Name, KPP}` with
 * capitalised keys, `Organization {Ext_ID, name, inn, kpp}` with lower-case ones, `Contract`,
 * `Signed` and `Binaries {FileName, FileBase64}`. It upserts by `Ext_ID` ("AddOrUpdate": a
 * second call updates the record, creates nothing) and answers 201 with the record in 003's
 * response shape, `requestID: null` included. Errors are plain text, as 003 lists them: 400
 * "Unable to add the entity", 401 "Could not find any client for this token (#err-40)", 500
 * "Database Failure".
 *
 * Two routes:
 * - `POST /Metadata/AddOrUpdateExtDoc` — a document with its file (the generic form; 003 shows
 *   only the invoice-payment variant, so `PaymentNumber`/`PaymentDate` are optional here);
 * - `POST /Metadata/AddOrUpdateExtDoc(3)` — 003's "Оплата счета-фактуры": the invoice with
 *   `PaymentNumber` and `PaymentDate` (required) and `Signed`; it upserts the invoice by
 *   `Ext_ID`, marks it paid and keeps one payment record per `(Ext_ID, PaymentNumber)`. An
 *   empty `Binaries.FileBase64` (as in 003's example) keeps the file the record has.
 *
 * The token goes in a header the test picks (`authHeader`, default `Authorization: Bearer`).
 * Faults: commit-then-drop (a share of writes, or the first write of every `Ext_ID`), 500
 * "Database Failure" before or after applying, a configurable `RequestID` dedupe. It counts
 * every TCP connection and request it gets ({@link FakeDms.hits}), so an SSRF test can prove
 * that nothing reached it.
 */

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const DMS_DOCUMENT_PATH = '/Metadata/AddOrUpdateExtDoc';
export const DMS_PAYMENT_PATH = '/Metadata/AddOrUpdateExtDoc(3)';

/** 003's DocTypeId table (L24-50). */
export const DMS_DOC_TYPES: Readonly<Record<number, string>> = {
  1: 'Поступление',
  2: 'Реализация',
  4: 'Договор',
  5: 'Счет-фактура исходящий',
  6: 'Счет исходящий',
  7: 'Банк',
  8: 'Авансовый отчет',
  9: 'Отчет',
  10: 'Акт сверки',
  11: 'Входящая корреспонденция',
  12: 'Исходящая корреспонденция',
  13: 'Прочее',
  14: 'Счет входящий',
  15: 'Счет-фактура входящий',
  16: 'Необработанные',
  19: 'Служебная записка',
  20: 'Складской документ',
  21: 'Кадровый документ',
  22: 'Технический документ',
};

export const DMS_ERR_UNAUTHORIZED = 'Could not find any client for this token (#err-40)';
export const DMS_ERR_BAD_REQUEST = 'Unable to add the entity';
export const DMS_ERR_SERVER = 'Database Failure';

export interface DmsContractor {
  Ext_ID: string;
  INN: string | null;
  Name: string;
  KPP: string | null;
}

export interface DmsOrganization {
  Ext_ID: string;
  name: string;
  inn: string;
  kpp: string | null;
}

/** One payment of an invoice (the invoice-payment call), keyed by `(extId, paymentNumber)`. */
export interface DmsPaymentRecord {
  extId: string;
  paymentNumber: string;
  /** `dd.MM.yyyy` as sent. */
  paymentDate: string;
  signed: boolean | null;
  amount: number;
  requestId: string;
  /** How many calls wrote it (1 when it was only created). */
  writes: number;
}

/** A record as the fake holds it (what a test reads at the end). */
export interface DmsRecord {
  /** The DMS's own id (003's `id`). */
  id: number;
  extId: string;
  docNumber: string;
  /** `dd.MM.yyyy` as sent. */
  docDate: string;
  docTypeId: number;
  source: string;
  currency: string | null;
  amount: number;
  amountWOVAT: number | null;
  vat: number | null;
  contractor: DmsContractor;
  organization: DmsOrganization;
  contractExtId: string | null;
  signed: boolean | null;
  paid: boolean;
  /** The payment fields the record holds (`dd.MM.yyyy` as sent), null when none. */
  paymentNumber: string | null;
  paymentDate: string | null;
  fileName: string | null;
  /** The decoded file, or null when none was ever sent. */
  file: Buffer | null;
  /** The last RequestID written, and every one seen for this Ext_ID, in order (repeats included). */
  requestId: string;
  requestIds: string[];
  /** How many calls applied a change to it (1: created only). */
  writes: number;
  /** The body of the last applied call, Binaries.FileBase64 left out. */
  lastBody: Record<string, unknown>;
}

export type DmsCallOutcome = 'created' | 'updated' | 'replayed' | 'bad-request' | 'unauthorized' | 'server-error' | 'dropped' | 'not-found' | 'too-large';

export interface DmsCall {
  method: string;
  path: string;
  at: number;
  status: number;
  outcome: DmsCallOutcome;
  extId?: string;
  requestId?: string;
  /** Why a 400 was answered (the fake's own detail; the answer itself says only 003's text). */
  problem?: string;
  committed: boolean;
}

export interface FakeDmsOptions {
  /** Valid tokens; default one random token. */
  tokens?: string[];
  /**
   * Where the token goes: `Header-Name` (the token is the whole value) or `Header-Name: Scheme`
   * (`Scheme <token>`). Default `Authorization: Bearer`. 003 does not document it.
   */
  authHeader?: string;
  /** Largest decoded `Binaries` file; larger is 400. Default 20 MiB. */
  maxFileBytes?: number;
  /**
   * A repeated `RequestID` (semantics undocumented in 003): `none` (default) applies it like any
   * call; `replay` answers the record as it is without applying anything; `reject` answers 400.
   */
  requestIdDedupe?: 'none' | 'replay' | 'reject';
  /**
   * What an upsert of an existing Ext_ID does with what the call leaves out (003 says nothing; its
   * name only says "AddOrUpdate"): `merge` (default) keeps the record's `Signed`, its paid state and
   * its payment fields; `replace` makes the record what the call sent, so a body without
   * `Signed` or without `PaymentNumber`/`PaymentDate` clears them (and `paid` with them). Either way
   * an empty `Binaries.FileBase64` keeps the file, as 003's invoice-payment example sends it.
   */
  upsert?: 'merge' | 'replace';
  port?: number;
  seed?: number;
}

export interface FakeDms {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Live records, in creation order. */
  records(): DmsRecord[];
  record(extId: string): DmsRecord | undefined;
  /** Payment records of the invoice-payment call, in creation order. */
  payments(): DmsPaymentRecord[];
  calls(filter?: { path?: string; outcome?: DmsCallOutcome }): DmsCall[];
  /** TCP connections accepted and HTTP requests received since start (or {@link resetHits}). */
  hits(): { connections: number; requests: number };
  resetHits(): void;
  /** Revokes or adds a token. */
  setTokenValid(token: string, valid: boolean): void;
  /**
   * After applying a write, reset the socket without an answer: for this share (0..1) of writes,
   * or `first` for the first write of every Ext_ID (each document and each payment once).
   */
  setCommitThenDrop(mode: number | 'first'): void;
  /** 500 "Database Failure" for this share of calls; `after` applies the write first. */
  setServerErrors(ratio: number, when?: 'before' | 'after'): void;
  /** How a repeated `RequestID` is answered from now on (see the option); clearFaults restores the option's. */
  setRequestIdDedupe(mode: 'none' | 'replay' | 'reject'): void;
  /** How an upsert treats what a call leaves out, from now on (see the option). */
  setUpsert(mode: 'merge' | 'replace'): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^(\d{2})\.(\d{2})\.(\d{4})$/;
const INT32_MAX = 2_147_483_647;

function isDate(value: unknown): value is string {
  const m = typeof value === 'string' ? DATE.exec(value) : null;
  if (!m) return false;
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= INT32_MAX;
const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const toIso = (ddmmyyyy: string): string => `${ddmmyyyy.slice(6)}-${ddmmyyyy.slice(3, 5)}-${ddmmyyyy.slice(0, 2)}T12:00:00Z`;

function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

class BadRequest extends Error {}

type Body = Record<string, unknown>;

/** The checks 003 implies; the first one failing is the problem. */
function validate(body: Body, payment: boolean, maxFileBytes: number): { file: Buffer | null; fileName: string | null } {
  const need = (cond: boolean, problem: string) => {
    if (!cond) throw new BadRequest(problem);
  };
  need(str(body.Ext_ID), 'Ext_ID is required');
  need(str(body.DocNumber), 'DocNumber is required');
  need(isDate(body.DocDate), 'DocDate must be dd.MM.yyyy');
  need(typeof body.DocTypeId === 'number' && DMS_DOC_TYPES[body.DocTypeId] !== undefined, 'DocTypeId is not in the table');
  need(body.Source === 'Входящий' || body.Source === 'Исходящий', 'Source must be Входящий or Исходящий');
  need(typeof body.RequestID === 'string' && GUID.test(body.RequestID), 'RequestID must be a GUID');
  need(isInt32(body.Amount), 'Amount must be an int32');
  for (const k of ['AmountWOVAT', 'VAT'] as const) need(body[k] === undefined || body[k] === null || isInt32(body[k]), `${k} must be an int32`);
  const c = body.Contractor as Body | undefined;
  need(typeof c === 'object' && c !== null && str(c.Ext_ID) && str(c.Name), 'Contractor {Ext_ID, Name} is required');
  need((c as Body).INN === undefined || (c as Body).INN === null || typeof (c as Body).INN === 'string', 'Contractor.INN must be a string');
  const o = body.Organization as Body | undefined;
  // 003's keys are lower case here; a capitalised `Name`/`INN` is not read, so the organization has no name.
  need(typeof o === 'object' && o !== null && str(o.Ext_ID) && str(o.name) && str(o.inn), 'Organization {Ext_ID, name, inn} is required (lower-case keys)');
  if (body.Contract !== undefined && body.Contract !== null) need(str((body.Contract as Body).Ext_ID), 'Contract.Ext_ID is required when Contract is sent');
  if (body.Signed !== undefined && body.Signed !== null) need(typeof body.Signed === 'boolean', 'Signed must be a boolean');
  if (payment || body.PaymentNumber !== undefined) need(str(body.PaymentNumber), 'PaymentNumber is required');
  if (payment || body.PaymentDate !== undefined) need(isDate(body.PaymentDate), 'PaymentDate must be dd.MM.yyyy');
  const b = body.Binaries as Body | undefined;
  need(typeof b === 'object' && b !== null && typeof b.FileBase64 === 'string' && typeof b.FileName === 'string', 'Binaries {FileName, FileBase64} is required');
  const b64 = (b as Body).FileBase64 as string;
  if (b64 === '') {
    need(payment, 'Binaries.FileBase64 is empty');
    return { file: null, fileName: null };
  }
  need(/^[A-Za-z0-9+/]*={0,2}$/.test(b64) && b64.length % 4 === 0, 'Binaries.FileBase64 is not base64');
  const file = Buffer.from(b64, 'base64');
  need(file.length <= maxFileBytes, `file over ${maxFileBytes} bytes`);
  need(str((b as Body).FileName), 'Binaries.FileName is required with a file');
  return { file, fileName: (b as Body).FileName as string };
}

/** 003's 201 body (L253-440), from the record. */
function answer(r: DmsRecord, p?: DmsPaymentRecord): Record<string, unknown> {
  return {
    idKey: `Metadata${r.id}`,
    fileExists: r.file !== null,
    id: r.id,
    docNumber: r.docNumber,
    docDate: toIso(r.docDate),
    docTypeId: r.docTypeId,
    docType: { id: r.docTypeId, name: DMS_DOC_TYPES[r.docTypeId] },
    ext_ID: r.extId,
    deleted: false,
    state: r.paid ? 'Оплачено' : 'Новый',
    amount: r.amount,
    amountWOVAT: r.amountWOVAT,
    vat: r.vat,
    currency: r.currency,
    contractor: { name: r.contractor.Name, inn: r.contractor.INN, kpp: r.contractor.KPP, ext_ID: r.contractor.Ext_ID },
    organization: { name: r.organization.name, inn: r.organization.inn, kpp: r.organization.kpp, ext_ID: r.organization.Ext_ID },
    contract: r.contractExtId ? { ext_ID: r.contractExtId } : null,
    source: r.source,
    paymentDate: p ? toIso(p.paymentDate) : null,
    paymentNumber: p ? p.paymentNumber : null,
    signed: r.signed,
    paid: r.paid,
    binaries: null,
    requestID: null,
  };
}

export async function startFakeDms(options: FakeDmsOptions = {}): Promise<FakeDms> {
  const tokens = new Set(options.tokens?.length ? options.tokens : [`dms-${randomBytes(12).toString('hex')}`]);
  const mainToken = [...tokens][0];
  const [headerName, scheme] = (options.authHeader ?? 'Authorization: Bearer').split(':').map((s) => s.trim());
  const maxFileBytes = options.maxFileBytes ?? 20 * 1024 * 1024;
  let dedupe = options.requestIdDedupe ?? 'none';
  let upsert = options.upsert ?? 'merge';
  const random = seededRandom(options.seed ?? 1);

  const records = new Map<string, DmsRecord>();
  const payments = new Map<string, DmsPaymentRecord>();
  const log: DmsCall[] = [];
  const sockets = new Set<Socket>();
  const dropped = new Set<string>();
  let nextId = 1;
  let connections = 0;
  let requests = 0;
  let drop: number | 'first' = 0;
  let errorRatio = 0;
  let errorWhen: 'before' | 'after' = 'before';

  const tokenOf = (req: IncomingMessage): string | undefined => {
    const value = req.headers[headerName.toLowerCase()];
    if (typeof value !== 'string') return undefined;
    if (!scheme) return value.trim();
    const prefix = `${scheme} `;
    return value.toLowerCase().startsWith(prefix.toLowerCase()) ? value.slice(prefix.length).trim() : undefined;
  };

  /** Applies a valid body; answers what the call did. */
  const apply = (body: Body, payment: boolean, file: Buffer | null, fileName: string | null): { outcome: 'created' | 'updated'; record: DmsRecord; pay?: DmsPaymentRecord } => {
    const extId = body.Ext_ID as string;
    const requestId = body.RequestID as string;
    const c = body.Contractor as Body;
    const o = body.Organization as Body;
    const existing = records.get(extId);
    const { Binaries, ...rest } = body;
    const lastBody: Body = { ...rest, Binaries: { FileName: (Binaries as Body).FileName, FileBase64: file ? `<${file.length} bytes>` : '' } };
    // `replace`: the record is what this call sent (see the option).
    const keep = upsert === 'merge';
    const sentPayment = str(body.PaymentNumber) && isDate(body.PaymentDate);
    const record: DmsRecord = {
      id: existing?.id ?? nextId++,
      extId,
      docNumber: body.DocNumber as string,
      docDate: body.DocDate as string,
      docTypeId: body.DocTypeId as number,
      source: body.Source as string,
      currency: typeof body.Currency === 'string' ? body.Currency : null,
      amount: body.Amount as number,
      amountWOVAT: (body.AmountWOVAT as number | undefined) ?? null,
      vat: (body.VAT as number | undefined) ?? null,
      contractor: { Ext_ID: c.Ext_ID as string, INN: (c.INN as string | undefined) ?? null, Name: c.Name as string, KPP: (c.KPP as string | undefined) ?? null },
      organization: { Ext_ID: o.Ext_ID as string, name: o.name as string, inn: o.inn as string, kpp: (o.kpp as string | undefined) ?? null },
      contractExtId: ((body.Contract as Body | undefined)?.Ext_ID as string | undefined) ?? null,
      signed: typeof body.Signed === 'boolean' ? body.Signed : keep ? (existing?.signed ?? null) : null,
      paid: payment || (keep ? (existing?.paid ?? false) : sentPayment),
      paymentNumber: sentPayment ? (body.PaymentNumber as string) : keep ? (existing?.paymentNumber ?? null) : null,
      paymentDate: sentPayment ? (body.PaymentDate as string) : keep ? (existing?.paymentDate ?? null) : null,
      fileName: file ? fileName : (existing?.fileName ?? null),
      file: file ?? existing?.file ?? null,
      requestId,
      requestIds: [...(existing?.requestIds ?? []), requestId],
      writes: (existing?.writes ?? 0) + 1,
      lastBody,
    };
    records.set(extId, record); // an existing key keeps its place: creation order
    let pay: DmsPaymentRecord | undefined;
    if (payment) {
      const key = `${extId}\n${body.PaymentNumber as string}`;
      const before = payments.get(key);
      pay = {
        extId,
        paymentNumber: body.PaymentNumber as string,
        paymentDate: body.PaymentDate as string,
        signed: typeof body.Signed === 'boolean' ? body.Signed : null,
        amount: body.Amount as number,
        requestId,
        writes: (before?.writes ?? 0) + 1,
      };
      payments.set(key, pay);
    }
    return { outcome: existing ? 'updated' : 'created', record, pay };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests += 1;
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://fake-dms').pathname);
    const call: DmsCall = { method: req.method ?? 'GET', path, at: Date.now(), status: 0, outcome: 'not-found', committed: false };
    const text = (status: number, body: string, outcome: DmsCallOutcome): void => {
      call.status = status;
      call.outcome = outcome;
      log.push(call);
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };

    const chunks: Buffer[] = [];
    let size = 0;
    // base64 is 4/3 of the file, plus the rest of the body.
    const maxBody = Math.ceil((maxFileBytes * 4) / 3) + 64 * 1024;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBody) {
        call.problem = `body over ${maxBody} bytes`;
        text(413, 'Request Entity Too Large', 'too-large');
        req.socket.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const payment = path === DMS_PAYMENT_PATH;
    if (req.method !== 'POST' || (path !== DMS_DOCUMENT_PATH && !payment)) return text(404, 'Not Found', 'not-found');
    const token = tokenOf(req);
    if (!token || !tokens.has(token)) return text(401, DMS_ERR_UNAUTHORIZED, 'unauthorized');

    const serverError = errorRatio > 0 && random() < errorRatio;
    if (serverError && errorWhen === 'before') return text(500, DMS_ERR_SERVER, 'server-error');

    let body: Body;
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BadRequest('the body is not a JSON object');
      body = parsed as Body;
    } catch (err) {
      call.problem = err instanceof BadRequest ? err.message : 'the body is not JSON';
      return text(400, DMS_ERR_BAD_REQUEST, 'bad-request');
    }
    let file: Buffer | null;
    let fileName: string | null;
    try {
      ({ file, fileName } = validate(body, payment, maxFileBytes));
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      call.problem = err.message;
      call.extId = typeof body.Ext_ID === 'string' ? body.Ext_ID : undefined;
      return text(400, DMS_ERR_BAD_REQUEST, 'bad-request');
    }
    const extId = body.Ext_ID as string;
    const requestId = body.RequestID as string;
    call.extId = extId;
    call.requestId = requestId;
    if (!payment && file === null && !records.get(extId)?.file) {
      call.problem = 'a document needs its file';
      return text(400, DMS_ERR_BAD_REQUEST, 'bad-request');
    }

    const seen = records.get(extId);
    if (dedupe !== 'none' && seen?.requestIds.includes(requestId)) {
      if (dedupe === 'reject') {
        call.problem = 'RequestID already used';
        return text(400, DMS_ERR_BAD_REQUEST, 'bad-request');
      }
      seen.requestIds.push(requestId);
      call.status = 201;
      call.outcome = 'replayed';
      log.push(call);
      res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(answer(seen)));
      return;
    }

    const { outcome, record, pay } = apply(body, payment, file, fileName);
    call.committed = true;
    if (serverError) return text(500, DMS_ERR_SERVER, 'server-error');
    const dropKey = `${path}\n${extId}`;
    const dropNow = drop === 'first' ? !dropped.has(dropKey) : drop > 0 && random() < drop;
    if (dropNow) {
      dropped.add(dropKey);
      call.outcome = 'dropped';
      log.push(call);
      req.socket.resetAndDestroy();
      return;
    }
    call.status = 201;
    call.outcome = outcome;
    log.push(call);
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(answer(record, pay)));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake DMS crashed: ${err instanceof Error ? err.stack : String(err)}`);
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s: Socket) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const copy = (r: DmsRecord): DmsRecord => ({ ...r, requestIds: [...r.requestIds], contractor: { ...r.contractor }, organization: { ...r.organization } });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token: mainToken,
    records: () => [...records.values()].map(copy),
    record: (extId) => {
      const r = records.get(extId);
      return r ? copy(r) : undefined;
    },
    payments: () => [...payments.values()].map((p) => ({ ...p })),
    calls: (filter = {}) => log.filter((c) => (filter.path === undefined || c.path === filter.path) && (filter.outcome === undefined || c.outcome === filter.outcome)),
    hits: () => ({ connections, requests }),
    resetHits: () => {
      connections = 0;
      requests = 0;
    },
    setTokenValid: (token, valid) => {
      if (valid) tokens.add(token);
      else tokens.delete(token);
    },
    setCommitThenDrop: (mode) => {
      drop = mode;
    },
    setServerErrors: (ratio, when = 'before') => {
      errorRatio = ratio;
      errorWhen = when;
    },
    setRequestIdDedupe: (mode) => {
      dedupe = mode;
    },
    setUpsert: (mode) => {
      upsert = mode;
    },
    clearFaults: () => {
      drop = 0;
      errorRatio = 0;
      dedupe = options.requestIdDedupe ?? 'none';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
