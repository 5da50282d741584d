import { Readable } from 'node:stream';
import { HttpClient, OutcomeUnknown, RateLimited, Rejected, Unavailable, UnsafeUrlError } from '@papka/http-client';
import { ConnectorError } from '../connector';

/** The record as 003's 201 answer shows it (the part the connector reads). */
export interface DmsAnswer {
  id?: number;
  ext_ID?: string;
  [key: string]: unknown;
}

export interface DmsClientOptions {
  /** Already checked by assertSafeBaseUrl (the connector's check). */
  baseUrl: string;
  token: string;
  /** `Header-Name` or `Header-Name: Scheme` (settings.authHeader). */
  authHeader: string;
  allowedHosts: readonly string[];
  timeoutMs: number;
}

/** A file bigger than FINANCE_DMS_MAX_FILE_BYTES: the record is rejected, never sent in part. */
export class FileTooLarge extends Error {
  constructor(
    readonly max: number,
    readonly size?: number,
  ) {
    super(size === undefined ? `the file is over FINANCE_DMS_MAX_FILE_BYTES (${max} bytes)` : `the file is ${size} bytes, over FINANCE_DMS_MAX_FILE_BYTES (${max} bytes)`);
    this.name = 'FileTooLarge';
  }
}

/** `Authorization: Bearer` -> header `authorization`, value `Bearer <token>`; `X-Api-Key` -> the token alone. */
export function authHeaderOf(setting: string, token: string): Record<string, string> {
  const [name, scheme] = setting.split(':').map((s) => s.trim());
  return { [name.toLowerCase()]: scheme ? `${scheme} ${token}` : token };
}

/** The JSON text of `body` with `file` spliced in, base64-encoded, where `marker` stands. */
export interface StreamedBody {
  stream: Readable;
  /** Exact byte length when the file's size is known. */
  length?: number;
}

/**
 * A JSON body whose one string value (the placeholder `marker`) is the base64 of `file`, encoded
 * while it is read: the PDF is never held whole, let alone twice (Buffer, then base64 string).
 * Over `maxBytes` the stream fails with FileTooLarge (the request is aborted, nothing applied).
 */
export function jsonWithBase64(body: unknown, marker: string, file: { stream: Readable; size?: number }, maxBytes: number): StreamedBody {
  const text = JSON.stringify(body);
  const quoted = JSON.stringify(marker);
  const at = text.indexOf(quoted);
  if (at < 0 || text.indexOf(quoted, at + 1) >= 0) throw new Error('jsonWithBase64: the marker must occur exactly once');
  const head = Buffer.from(`${text.slice(0, at)}"`, 'utf8');
  const tail = Buffer.from(`"${text.slice(at + quoted.length)}`, 'utf8');
  if (file.size !== undefined && file.size > maxBytes) {
    file.stream.destroy();
    throw new FileTooLarge(maxBytes, file.size);
  }
  async function* encode(): AsyncGenerator<Buffer> {
    yield head;
    let rest: Buffer = Buffer.alloc(0);
    let total = 0;
    for await (const chunk of file.stream as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (total > maxBytes) throw new FileTooLarge(maxBytes);
      const all = rest.length ? Buffer.concat([rest, buf]) : buf;
      const whole = all.length - (all.length % 3);
      if (whole > 0) yield Buffer.from(all.subarray(0, whole).toString('base64'), 'latin1');
      rest = all.subarray(whole);
    }
    if (rest.length) yield Buffer.from(rest.toString('base64'), 'latin1');
    yield tail;
  }
  const length = file.size === undefined ? undefined : head.length + 4 * Math.ceil(file.size / 3) + tail.length;
  return { stream: Readable.from(encode(), { objectMode: false }), length };
}

/**
 * The DMS over @papka/http-client with the URL guard: every socket is checked at connect time
 * (DNS rebinding), a redirect is refused. Errors are 003's plain text; every failure becomes a
 * ConnectorError, the token never in a message.
 */
export class DmsClient {
  private readonly http: HttpClient;
  private readonly auth: Record<string, string>;

  constructor(o: DmsClientOptions) {
    this.http = new HttpClient({ baseUrl: o.baseUrl, timeoutMs: o.timeoutMs, connections: 4, urlGuard: { allowedHosts: o.allowedHosts } });
    this.auth = authHeaderOf(o.authHeader, o.token);
  }

  /** POSTs a body (JSON, or a streamed one) to an AddOrUpdateExtDoc path. */
  async post(path: string, body: unknown | StreamedBody): Promise<DmsAnswer> {
    const key = `POST ${path}`;
    const streamed = isStreamed(body) ? body : undefined;
    try {
      const answer = await this.http.json<DmsAnswer>('POST', path, {
        headers: { ...this.auth, ...(streamed ? { 'content-type': 'application/json; charset=utf-8', ...(streamed.length !== undefined ? { 'content-length': String(streamed.length) } : {}) } : {}) },
        ...(streamed ? { body: streamed.stream } : { json: body }),
      });
      return answer ?? {};
    } catch (err) {
      throw failure(key, err);
    }
  }

  /**
   * 003 has no read call. The probe posts an empty object, which no DMS can add: a 400 says the
   * token was accepted (nothing written), 401 #err-40 that it was not. Answers the status of a
   * refusal other than 401 (400, 404, 3xx...), or 201 should the DMS take it after all.
   */
  async probe(path: string): Promise<number> {
    try {
      await this.http.json('POST', path, { headers: this.auth, json: {} });
      return 201;
    } catch (err) {
      if (err instanceof Rejected && err.status !== 401 && err.status < 500 && !/#err-40/.test(text(err.body))) return err.status;
      const mapped = failure(`POST ${path}`, err);
      // Nothing can have been applied from an empty body: a lost answer is only "not reachable".
      if (mapped instanceof ConnectorError && mapped.failure === 'outcome_unknown') throw new ConnectorError('unavailable', mapped.message, mapped.method);
      throw mapped;
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

const isStreamed = (b: unknown): b is StreamedBody => typeof b === 'object' && b !== null && (b as StreamedBody).stream instanceof Readable;

const text = (body: unknown): string => (typeof body === 'string' ? body.trim().slice(0, 300) : body === undefined ? '' : JSON.stringify(body).slice(0, 300));

function causeOf<T extends Error>(err: unknown, type: new (...a: never[]) => T): T | undefined {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) if (e instanceof type) return e;
  return undefined;
}

/**
 * 003's 400 "Unable to add the entity": a refusal, which may also be the DMS refusing a RequestID
 * it has seen (003 leaves its dedupe undocumented), as after a resend whose first call was applied.
 */
export class DmsBadRequest extends ConnectorError {
  constructor(message: string, method: string) {
    super('rejected', message, method);
  }
}

/** 003's answers: 201; 400 "Unable to add the entity"; 401 "...token (#err-40)"; 500 "Database Failure". */
export function failure(key: string, err: unknown): unknown {
  const tooLarge = causeOf(err, FileTooLarge);
  if (tooLarge) return new ConnectorError('rejected', `${key}: ${tooLarge.message}`, key);
  if (err instanceof UnsafeUrlError) return new ConnectorError('rejected', `${key}: settings.baseUrl refused at connect time: ${err.message}`, key);
  if (err instanceof RateLimited) return new ConnectorError('rate_limited', `${key}: too many requests`, key, err.retryAfterMs);
  if (err instanceof Rejected) {
    const said = text(err.body);
    if (err.status === 401 || /#err-40/.test(said)) return new ConnectorError('unauthorized', `${key}: ${said || 'answered HTTP 401'}`, key);
    if (err.status >= 500) return new ConnectorError('outcome_unknown', `${key}: answered HTTP ${err.status}${said ? ` ${said}` : ''}`, key);
    if (err.status === 400) return new DmsBadRequest(`${key}: ${err.reason}${said ? `: ${said}` : ''}`, key);
    return new ConnectorError('rejected', `${key}: ${err.reason}${said ? `: ${said}` : ''}`, key);
  }
  if (err instanceof Unavailable) return new ConnectorError('unavailable', `${key}: ${err.reason}`, key, err.retryAfterMs);
  // The Ext_ID upsert makes a resend safe; the engine still counts it and asks find() first.
  if (err instanceof OutcomeUnknown) return new ConnectorError('outcome_unknown', `${key}: ${err.reason}${err.body !== undefined ? ` ${text(err.body)}` : ''}`, key);
  return err;
}
