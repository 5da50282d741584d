import { HttpClient, OutcomeUnknown, RateLimited, Rejected, Unavailable, UnsafeUrlError } from '@papka/http-client';
import { ConnectorError } from '../connector';
import { parseDocumentsPage, type BillingPage, type BillingType } from './billing.mapper';

export const DOCUMENTS_PATH = '/api/lite/billing/documents';
/** The limiter key and error prefix of the one call. */
export const DOCUMENTS_METHOD = `GET ${DOCUMENTS_PATH}`;

export interface PageQuery {
  page: number;
  size: number;
  /** 001's filter format, `2020-02-19T12:35:31`. */
  dateFrom?: string | null;
  dateTo?: string | null;
  types?: readonly BillingType[];
}

/**
 * The billing's document list over @papka/http-client, with the SSRF guard on every socket (the
 * base URL is the user's). 001 documents no authentication: the token goes as
 * `Authorization: Bearer`. Every failure becomes a ConnectorError; the token is never in one.
 */
export class BillingClient {
  private readonly http: HttpClient;

  constructor(
    baseUrl: string,
    token: string,
    timeoutMs: number,
    allowedHosts: readonly string[],
  ) {
    this.http = new HttpClient({ baseUrl, timeoutMs, connections: 2, headers: { authorization: `Bearer ${token}` }, urlGuard: { allowedHosts } });
  }

  async page(q: PageQuery): Promise<BillingPage> {
    const query = {
      page: q.page,
      size: q.size,
      date_from: q.dateFrom ?? undefined,
      date_to: q.dateTo ?? undefined,
      filter_types: q.types && q.types.length ? q.types.join(',') : undefined,
      extended: true,
    };
    let body: Buffer;
    try {
      body = (await this.http.request('GET', DOCUMENTS_PATH, { query, headers: { accept: 'application/json' } })).body;
    } catch (err) {
      throw failure(err);
    }
    return parseDocumentsPage(body.toString('utf8'));
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

function failure(err: unknown): unknown {
  const m = DOCUMENTS_METHOD;
  if (err instanceof UnsafeUrlError) return new ConnectorError('rejected', `the billing's address is refused: ${err.message}`, 'settings.baseUrl');
  if (err instanceof RateLimited) return new ConnectorError('rate_limited', `${m}: too many requests`, m, err.retryAfterMs);
  if (err instanceof Rejected) {
    if (err.status === 401 || err.status === 403) return new ConnectorError('unauthorized', `${m}: the billing refused the token (HTTP ${err.status})`, m);
    // A read: a 5xx changed nothing there, so it is only "try again later" (the import resumes).
    if (err.status >= 500) return new ConnectorError('unavailable', `${m}: answered HTTP ${err.status}`, m);
    const message = typeof err.body === 'object' && err.body !== null ? String((err.body as { message?: unknown }).message ?? '') : '';
    return new ConnectorError('rejected', `${m}: answered HTTP ${err.status}${message ? ` (${message.slice(0, 200)})` : ''}`, m);
  }
  if (err instanceof Unavailable || err instanceof OutcomeUnknown) return new ConnectorError('unavailable', `${m}: ${err.reason}`, m, err instanceof Unavailable ? err.retryAfterMs : undefined);
  return err;
}
