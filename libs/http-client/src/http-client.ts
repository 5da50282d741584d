import { gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { Agent, Dispatcher, request } from 'undici';
import { HttpError, OutcomeUnknown, RateLimited, Rejected, Unavailable, type HttpErrorInit } from './errors';
import { parseRetryAfter } from './retry-after';
import { guardedConnector, UnsafeUrlError, type UrlGuardOptions } from './url-guard';

export type QueryValue = string | number | boolean | null | undefined;

export interface HttpClientOptions {
  /** e.g. `https://api.moysklad.ru/api/remap/1.2`; request paths are appended to it. */
  baseUrl: string;
  /** Sent with every request (credentials, `user-agent`); never printed in errors. */
  headers?: Record<string, string>;
  /** Hard limit of a whole call: connect, send, headers and the body read. Default 10 s. */
  timeoutMs?: number;
  /** Most sockets open to the target at once; further calls wait for one. Default 8. */
  connections?: number;
  /** How long an idle socket is kept for reuse (capped by the server's Keep-Alive hint). Default 4 s. */
  keepAliveTimeoutMs?: number;
  /** A success answer larger than this counts as unreadable; an error answer's body is cut there. Default 16 MiB. */
  maxResponseBytes?: number;
  /**
   * For a base URL a user typed in (url-guard.ts): every socket opens only to an address the
   * guard allows (checked at connect time, after DNS), and a 3xx answer is Rejected, never followed.
   */
  urlGuard?: UrlGuardOptions;
}

export interface RequestOptions {
  query?: Record<string, QueryValue | readonly QueryValue[]>;
  headers?: Record<string, string>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** Sent as `application/x-www-form-urlencoded` (Adesk v1). */
  form?: Record<string, QueryValue | readonly QueryValue[]> | URLSearchParams;
  /** Sent as is; set its `content-type` in `headers`. A stream is read once (this client never resends). */
  body?: string | Uint8Array | Readable;
  /**
   * Whether sending the request twice does no harm. Defaults to the method's meaning (RFC 9110:
   * GET, HEAD, OPTIONS, PUT, DELETE are); say true for a POST that only reads (DaData's findById)
   * or that the target deduplicates by an idempotency key.
   */
  idempotent?: boolean;
  timeoutMs?: number;
  /** The caller's own cancellation; its reason is thrown as is. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Mistakes in our own call, not a state of the target: thrown as they are. */
const PROGRAMMING_ERRORS = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'UND_ERR_INVALID_RETURN_VALUE']);

class TimedOut extends Error {}
/** A success whose body cannot be read (too large, or not the gzip it says it is): answered, unusable. */
class Unreadable extends Error {
  constructor(readonly status: number, why: string) {
    super(`answered HTTP ${status} ${why}`);
  }
}
class TooLarge extends Unreadable {
  constructor(status: number, max: number) {
    super(status, `with more than ${max} bytes`);
  }
}

/**
 * Sees undici tell its handler that the request was written to the socket: the line between
 * "surely not delivered" and "maybe applied". One per call, wrapping the shared agent.
 */
class SentTracker extends Dispatcher {
  sent = false;

  constructor(private readonly agent: Agent) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const inner = handler as Dispatcher.DispatchHandler & { onRequestSent?: () => void };
    const onRequestSent = () => {
      this.sent = true;
      inner.onRequestSent?.();
    };
    // A legacy-style handler (undici's own request handler is one) gets onRequestSent called;
    // everything else is forwarded, bound to the original so its own state stays its own.
    const tracked = new Proxy(inner, {
      get: (target, key) => {
        if (key === 'onRequestSent') return onRequestSent;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    return this.agent.dispatch(opts, tracked);
  }
}

/**
 * An outbound HTTP client for one target: a keep-alive agent of its own, a hard timeout per
 * call, and every failure turned into one of RateLimited, Unavailable, Rejected or
 * OutcomeUnknown (see the README for the rules). It never retries: the caller decides.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: HttpClientOptions) {
    this.base = options.baseUrl.replace(/(?<!\/)\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
    this.agent = new Agent({
      connections: options.connections ?? 8,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      // Backstops only: the per-call AbortSignal below is the real limit.
      connect: options.urlGuard ? guardedConnector({ ...options.urlGuard, timeout: this.timeoutMs }) : { timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /** The answer's JSON (undefined for an empty body); a 4xx/5xx or unreadable answer throws. */
  async json<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const upper = method.toUpperCase();
    const res = await this.request(upper, path, { ...options, headers: { accept: 'application/json', ...lowerKeys(options.headers) } });
    if (res.body.length === 0) return undefined as T;
    try {
      return JSON.parse(res.body.toString('utf8')) as T;
    } catch (err) {
      const init = { ...this.init(upper, path, true, `answered HTTP ${res.status} with a body that is not JSON`, err), status: res.status, body: res.body.toString('utf8') };
      throw this.isIdempotent(upper, options) ? new Rejected(init) : new OutcomeUnknown(init);
    }
  }

  /** The raw answer for a 1xx-3xx status; anything else throws one of the typed errors. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const upper = method.toUpperCase();
    const idempotent = this.isIdempotent(upper, options);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const { body, contentType } = encodeBody(options);
    const headers = { ...(contentType ? { 'content-type': contentType } : {}), ...lowerKeys(this.options.headers), ...lowerKeys(options.headers) };
    const tracker = new SentTracker(this.agent);
    const timeout = new AbortController();
    const signal = options.signal ? AbortSignal.any([timeout.signal, options.signal]) : timeout.signal;

    let timer: NodeJS.Timeout | undefined;
    // Raced rather than left to undici alone: a call still queued for a socket or connecting
    // does not notice its signal until it gets one, and this limit is a promise to the caller.
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new TimedOut(`timed out after ${timeoutMs} ms`);
        timeout.abort(err);
        reject(err);
      }, timeoutMs);
    });
    const call = async (): Promise<HttpResponse> => {
      // undici's own limits follow this call's: the pool's (the client's default) would cut a
      // longer one short (a slow export given a minute on a client of 10 s).
      const res = await request(this.url(path, options.query), {
        method: upper as Dispatcher.HttpMethod,
        headers,
        body,
        signal,
        dispatcher: tracker,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const raw = await readBody(res.body, res.statusCode, this.maxResponseBytes);
      // A target that compresses (MoySklad answers gzip, having required `Accept-Encoding: gzip`).
      const gzipped = res.headers['content-encoding'] === 'gzip' && raw.length > 0;
      return { status: res.statusCode, headers: res.headers, body: gzipped ? gunzipAtMost(raw, res.statusCode, this.maxResponseBytes) : raw };
    };
    const work = call();
    work.catch(() => undefined); // settled through the race below; this only keeps a late rejection quiet

    let res: HttpResponse;
    try {
      res = await Promise.race([work, expired]);
    } catch (err) {
      throw this.failure(upper, path, idempotent, tracker.sent, err, options.signal);
    } finally {
      clearTimeout(timer);
    }
    if (this.options.urlGuard && res.status >= 300 && res.status < 400) {
      throw new Rejected({ ...this.init(upper, path, true, `answered HTTP ${res.status} (a redirect, not followed)`), status: res.status });
    }
    if (res.status < 400) return res;
    throw this.answerError(upper, path, idempotent, res);
  }

  /** Closes idle sockets and waits for calls in flight. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private isIdempotent(method: string, options: RequestOptions): boolean {
    return options.idempotent ?? IDEMPOTENT_METHODS.has(method);
  }

  private url(path: string, query: RequestOptions['query']): string {
    const url = new URL(`${this.base}/${path.replace(/^\/+/, '')}`);
    if (query) appendParams(url.searchParams, query);
    return url.toString();
  }

  private init(method: string, path: string, requestSent: boolean, reason: string, cause?: unknown): HttpErrorInit {
    const { origin, pathname } = new URL(`${this.base}/${path.replace(/^\/+/, '')}`);
    return { method, url: `${origin}${pathname}`, requestSent, reason, cause };
  }

  /** A call that got no (complete) answer. */
  private failure(method: string, path: string, idempotent: boolean, sent: boolean, err: unknown, callerSignal?: AbortSignal): unknown {
    if (callerSignal?.aborted) return callerSignal.reason;
    if (err instanceof UnsafeUrlError) return err;
    const code = (err as { code?: string }).code;
    if (code && PROGRAMMING_ERRORS.has(code)) return err;
    if (err instanceof Unreadable) {
      const init = { ...this.init(method, path, true, err.message), status: err.status };
      return idempotent ? new Rejected(init) : new OutcomeUnknown(init);
    }
    const what = err instanceof TimedOut ? err.message : `${(err as Error).message}${code ? ` (${code})` : ''}`;
    if (!sent) return new Unavailable(this.init(method, path, false, `${what} before the request was sent`, err));
    const init = this.init(method, path, true, `${what} after the request was sent`, err);
    return idempotent ? new Unavailable(init) : new OutcomeUnknown(init);
  }

  /** An answer with a 4xx/5xx status. */
  private answerError(method: string, path: string, idempotent: boolean, res: HttpResponse): HttpError {
    const { status } = res;
    const init = { ...this.init(method, path, true, `answered HTTP ${status}`), status, body: decodeBody(res.body), headers: res.headers };
    if (status === 429) return new RateLimited(init, parseRetryAfter(res.headers['retry-after']));
    // 503 is the server saying it did not handle the request; 502/504 come from a gateway that
    // may have passed it on before the target failed or went quiet.
    if (status === 503) return new Unavailable(init, parseRetryAfter(res.headers['retry-after']));
    if (status < 500) return new Rejected(init);
    if (!idempotent) return new OutcomeUnknown(init);
    return status === 502 || status === 504 ? new Unavailable(init) : new Rejected(init);
  }
}

/** Repeated keys for arrays (`a=1&a=2`); undefined and null are left out. */
function appendParams(params: URLSearchParams, values: Record<string, QueryValue | readonly QueryValue[]>): URLSearchParams {
  for (const [key, value] of Object.entries(values)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined && v !== null) params.append(key, String(v));
  }
  return params;
}

/** Header names are case-insensitive: lower-cased so a per-call header replaces a default one. */
function lowerKeys(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function encodeBody(options: RequestOptions): { body?: RequestOptions['body']; contentType?: string } {
  if (options.json !== undefined) return { body: JSON.stringify(options.json), contentType: 'application/json' };
  if (options.form !== undefined) {
    const form = options.form instanceof URLSearchParams ? options.form : appendParams(new URLSearchParams(), options.form);
    return { body: form.toString(), contentType: 'application/x-www-form-urlencoded' };
  }
  return { body: options.body };
}

async function readBody(stream: AsyncIterable<Buffer> & { destroy(err?: Error): void }, status: number, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > max) {
      // An error answer's body only informs: keep its start. A success's body is the result.
      if (status >= 400) {
        chunks.push(chunk.subarray(0, chunk.length - (size - max)));
        stream.destroy();
        break;
      }
      const err = new TooLarge(status, max);
      stream.destroy(err);
      throw err;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A gzip answer inflated to at most `max` bytes, the bound readBody puts on a plain one: a few
 * kilobytes of gzip can inflate a thousandfold. An error answer whose body cannot be inflated
 * (past the bound, cut at it by readBody, or not gzip at all) keeps its status and headers
 * without the body, which only informs: a 429 still carries its Retry-After. A success past the
 * bound is too large to read, and one that is not gzip is unreadable (before, either error was
 * taken for a network failure: `Unavailable`, retried for ever).
 */
function gunzipAtMost(raw: Buffer, status: number, max: number): Buffer {
  try {
    return gunzipSync(raw, { maxOutputLength: max });
  } catch (err) {
    if (status >= 400) return Buffer.alloc(0);
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLarge(status, max);
    throw new Unreadable(status, `with a body that is not the gzip its Content-Encoding says (${(err as Error).message})`);
  }
}

function decodeBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}
