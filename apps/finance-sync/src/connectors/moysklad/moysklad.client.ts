import { HttpClient, HttpError, OutcomeUnknown, RateLimited, Rejected, Unavailable, type QueryValue } from '@papka/http-client';
import { ConnectorError, type ConnectorFailure } from '../connector';
import { LimiterBlocked, type LimitSignals, type MoyskladLimiter } from './moysklad.limiter';

type Query = Record<string, QueryValue | readonly QueryValue[]>;

/** One error object of MoySklad's `{"errors":[...]}` (`_general.md` §Обработка ошибок). */
export interface MoyskladErrorItem {
  error?: string;
  code?: number;
  parameter?: string;
  error_message?: string;
  moreInfo?: string;
}

/** The tariff-block codes: the connection is paused as `payment_required`. */
export const TARIFF_CODES: ReadonlySet<number> = new Set([1043, 1070, 30006]);

/** A ConnectorError that also carries what MoySklad answered. */
export class MoyskladError extends ConnectorError {
  constructor(
    failure: ConnectorFailure,
    message: string,
    method: string,
    retryAfterMs: number | undefined,
    readonly status: number,
    readonly code: number | undefined,
  ) {
    super(failure, message, method, retryAfterMs);
    this.name = 'MoyskladError';
  }
}

/**
 * The limiter key of every MoySklad call (ConnectorError.method). MoySklad limits the token, not
 * a method, so a 429 anywhere holds back every call of the connection, in the engine as here.
 */
export const MOYSKLAD_METHOD = 'MoySklad API';

/** A call's route with ids replaced (`POST /entity/paymentin/:id`), for messages. */
export const route = (method: string, path: string): string =>
  `${method} ${path.replace(/\?.*$/, '').replace(/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\/|$)/gi, '/:id')}`;

const errorsOf = (body: unknown): MoyskladErrorItem[] => {
  const errors = (body as { errors?: unknown } | null | undefined)?.errors;
  return Array.isArray(errors) ? (errors as MoyskladErrorItem[]) : [];
};

/** `code parameter: error` of each error, for `lastError` (never a header or the token). */
export const describeErrors = (errors: MoyskladErrorItem[]): string =>
  errors.map((e) => [e.code, e.parameter && `${e.parameter}:`, e.error ?? e.error_message].filter(Boolean).join(' ')).join('; ') || 'refused';

const headerMs = (h: HttpError['headers'], name: string): number | undefined => {
  const v = h?.[name];
  const n = Number(Array.isArray(v) ? v[0] : v);
  return v !== undefined && Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** The failure of one item of a bulk answer (`{"errors":[...]}` in the item's place). */
export function itemFailure(key: string, errors: MoyskladErrorItem[]): MoyskladError {
  const code = errors[0]?.code;
  const failure: ConnectorFailure = code !== undefined && TARIFF_CODES.has(code) ? 'payment_required' : 'rejected';
  return new MoyskladError(failure, `${key}: ${describeErrors(errors)}`, MOYSKLAD_METHOD, undefined, 200, code);
}

/**
 * MoySklad over @papka/http-client: `Authorization: Bearer`, `Accept-Encoding: gzip` on every
 * request (MoySklad answers 415 without it; http-client inflates the answer), every call through
 * the token's limiter, and every failure a MoyskladError read from the body:
 * 401 unauthorized; 1043/1070/30006 payment_required; 429 rate_limited with MoySklad's
 * `X-Lognex-Retry-After`; a 5xx, reset or timeout after a write was sent outcome_unknown (on a
 * read, unavailable); any other 4xx rejected.
 */
export class MoyskladClient {
  private readonly http: HttpClient;

  constructor(
    readonly baseUrl: string,
    token: string,
    timeoutMs: number,
    private readonly limiter: MoyskladLimiter,
  ) {
    // One socket per allowed parallel call: the limiter, not the pool, is what queues.
    this.http = new HttpClient({ baseUrl, timeoutMs, connections: 5, headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' } });
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.call<T>('GET', path, { query });
  }

  post<T>(path: string, json: unknown): Promise<T> {
    return this.call<T>('POST', path, { json });
  }

  put<T>(path: string, json: unknown): Promise<T> {
    return this.call<T>('PUT', path, { json });
  }

  delete(path: string): Promise<void> {
    return this.call<void>('DELETE', path, {});
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { query?: Query; json?: unknown }): Promise<T> {
    const key = route(method, path);
    let permit;
    try {
      permit = await this.limiter.acquire();
    } catch (err) {
      if (err instanceof LimiterBlocked) throw new MoyskladError('rate_limited', `${key}: waiting for MoySklad's rate limit`, MOYSKLAD_METHOD, err.retryAfterMs, 0, undefined);
      throw err;
    }
    const signals: LimitSignals = { status: 0 };
    try {
      const res = await this.http.request(method, path, options);
      signals.status = res.status;
      signals.headers = res.headers;
      const text = res.body.toString('utf8');
      if (!text) return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new MoyskladError(method === 'GET' ? 'unavailable' : 'outcome_unknown', `${key}: answered HTTP ${res.status} with a body that is not JSON`, MOYSKLAD_METHOD, undefined, res.status, undefined);
      }
    } catch (err) {
      if (err instanceof HttpError) {
        signals.status = err.status ?? 0;
        signals.headers = err.headers;
        signals.code = errorsOf(err.body)[0]?.code;
        throw this.failure(method, key, err);
      }
      throw err;
    } finally {
      permit.done(signals);
    }
  }

  private failure(method: string, key: string, err: HttpError): MoyskladError {
    const errors = errorsOf(err.body);
    const code = errors[0]?.code;
    const status = err.status ?? 0;
    const text = errors.length > 0 ? describeErrors(errors) : err.reason;
    const make = (failure: ConnectorFailure, retryAfterMs?: number): MoyskladError => new MoyskladError(failure, `${key}: ${text}`, MOYSKLAD_METHOD, retryAfterMs, status, code);
    if (err instanceof RateLimited) return make('rate_limited', headerMs(err.headers, 'x-lognex-retry-after') ?? err.retryAfterMs);
    if (status === 401) return make('unauthorized');
    if (code !== undefined && TARIFF_CODES.has(code)) return make('payment_required');
    // PUT and DELETE count as idempotent in http-client; a write that was sent is still unknown here.
    if (err instanceof Unavailable) return make(method !== 'GET' && err.requestSent && status !== 503 ? 'outcome_unknown' : 'unavailable', err.retryAfterMs);
    if (err instanceof OutcomeUnknown) return make(method === 'GET' ? 'unavailable' : 'outcome_unknown');
    if (err instanceof Rejected && status >= 500) return make(method === 'GET' ? 'unavailable' : 'outcome_unknown');
    return make('rejected');
  }
}
