import { HttpClient, OutcomeUnknown, RateLimited, Rejected, Unavailable, type QueryValue } from '@papka/http-client';
import { ConnectorError } from '../connector';

type Query = Record<string, QueryValue | readonly QueryValue[]>;

/** What every Adesk answer may carry: errors are in the body, whatever the HTTP status (002 L8-44). */
interface AdeskBody {
  success?: boolean;
  code?: number | string;
  errorCode?: string;
  message?: string;
  errors?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Limiter key of a call: the route with ids replaced, as Adesk blocks per method. */
export const route = (method: string, path: string): string => `${method} ${path.replace(/\/\d+(?=\/|$)/g, '/:id')}`;

/**
 * Adesk over @papka/http-client. v1 takes the token in `api_token` and form bodies; v2 takes
 * `X-API-Token` and JSON. Every failure becomes a ConnectorError; the token never reaches a
 * message (http-client's messages carry no query string, and ours name the route only).
 */
export class AdeskClient {
  private readonly http: HttpClient;

  constructor(
    baseUrl: string,
    private readonly token: string,
    timeoutMs: number,
  ) {
    this.http = new HttpClient({ baseUrl, timeoutMs, connections: 4 });
  }

  v1Get<T extends AdeskBody>(path: string, query: Query = {}): Promise<T> {
    return this.call<T>('GET', path, { query: { ...query, api_token: this.token } });
  }

  v1Post<T extends AdeskBody>(path: string, form: Query): Promise<T> {
    return this.call<T>('POST', path, { query: { api_token: this.token }, form });
  }

  v2Post<T extends AdeskBody>(path: string, json: unknown): Promise<T> {
    return this.call<T>('POST', path, { headers: { 'x-api-token': this.token }, json });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private async call<T extends AdeskBody>(method: 'GET' | 'POST', path: string, options: Parameters<HttpClient['json']>[2]): Promise<T> {
    const key = route(method, path);
    let body: AdeskBody;
    try {
      body = await this.http.json<AdeskBody>(method, path, options);
    } catch (err) {
      if (err instanceof RateLimited) throw new ConnectorError('rate_limited', `${key}: too many requests`, key, err.retryAfterMs);
      if (err instanceof Rejected && isBody(err.body) && (err.status < 500 || isRefusal(err.body))) body = err.body;
      else if (err instanceof Rejected) {
        const failed = err.status < 500 ? 'rejected' : method === 'GET' ? 'unavailable' : 'outcome_unknown';
        throw new ConnectorError(failed, `${key}: answered HTTP ${err.status}`, key);
      }
      else if (err instanceof Unavailable) {
        // Adesk's own 503 applied nothing, but a proxy in front of it answers 503 too after it passed
        // the write on (finance-targets: "on a timeout or 5xx, do not resend blindly"): a write
        // answered 503 is looked up before it is sent again. A GET, or a call never sent, is only down.
        if (method === 'POST' && err.status === 503) throw new ConnectorError('outcome_unknown', `${key}: ${err.reason}`, key);
        throw new ConnectorError('unavailable', `${key}: ${err.reason}`, key, err.retryAfterMs);
      }
      else if (err instanceof OutcomeUnknown) {
        // A body-coded refusal under a 5xx status (its fields named, a named error, auth, payment,
        // rate limit) was still a refusal: it applied nothing. `{ success: false, code: 500 }`
        // alone says no more than the status: the write may have been applied.
        if (isBody(err.body) && isRefusal(err.body)) body = err.body;
        else throw new ConnectorError(method === 'GET' ? 'unavailable' : 'outcome_unknown', `${key}: ${err.reason}`, key);
      } else throw err;
    }
    if (body.success === false) throw failure(key, body);
    return body as T;
  }
}

const isBody = (v: unknown): v is AdeskBody => typeof v === 'object' && v !== null && 'success' in v;

/** v2 refusals about the request as a whole, which every item of it would get (002 L1334). */
const EVERY_ITEM_CODES = new Set(['cannot_use_closed_bank_account']);

/** Adesk codes that refuse a call before anything is done: auth, payment required, rate limit. */
const REFUSAL_CODES = new Set(['401', '21', '429']);

/** A body that says the call was refused, not that the server failed somewhere in it. */
const isRefusal = (b: AdeskBody): boolean =>
  b.success === false && (b.errors !== undefined || b.errorCode !== undefined || (b.code !== undefined && REFUSAL_CODES.has(String(b.code))));

function failure(key: string, body: AdeskBody): ConnectorError {
  const code = body.code === undefined ? undefined : String(body.code);
  if (code === '401') return new ConnectorError('unauthorized', `${key}: Auth required`, key);
  if (code === '21') return new ConnectorError('payment_required', `${key}: Payment required`, key);
  if (code === '429') return new ConnectorError('rate_limited', `${key}: Too many requests`, key);
  const fields = body.errors
    ? Object.entries(body.errors)
        .map(([field, msgs]) => `${field}: ${Array.isArray(msgs) ? msgs.join(' ') : String(msgs)}`)
        .join('; ')
    : '';
  const text = [body.message, body.errorCode && `(${body.errorCode})`, fields].filter(Boolean).join(' ') || 'refused';
  return new ConnectorError('rejected', `${key}: ${text}`, key, undefined, body.errorCode !== undefined && EVERY_ITEM_CODES.has(body.errorCode));
}
