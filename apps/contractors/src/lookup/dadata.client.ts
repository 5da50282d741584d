import { HttpClient, HttpError, RateLimited, type HttpResponse } from '@papka/http-client';

export type Suggestion = Record<string, unknown>;

/** The provider cannot answer now (down, timeout, rate limited, misconfigured key). */
export class ProviderUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}

export class ProviderNotConfiguredError extends Error {
  constructor() {
    super('DADATA_API_KEY is not set: organisation and bank look-ups are unavailable');
    this.name = 'ProviderNotConfiguredError';
  }
}

export interface DadataClientOptions {
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
}

/**
 * DaData-compatible suggestions API: `findById/party` and `findById/bank`, on the shared
 * outbound client (one keep-alive pool, a hard timeout per call). Every failure is
 * ProviderUnavailableError to the callers: they serve a stale answer or defer.
 */
export class DadataClient {
  private readonly http: HttpClient;

  constructor(private readonly o: DadataClientOptions) {
    this.http = new HttpClient({
      baseUrl: o.baseUrl,
      headers: o.apiKey ? { authorization: `Token ${o.apiKey}` } : {},
      timeoutMs: o.timeoutMs,
      connections: 16,
      keepAliveTimeoutMs: 30_000,
    });
  }

  get configured(): boolean {
    return Boolean(this.o.apiKey);
  }

  /** The first suggestion for an INN/OGRN, or null when the provider knows none. */
  findParty(query: string): Promise<Suggestion | null> {
    return this.findById('party', query);
  }

  /** The first suggestion for a BIK, or null. */
  findBank(query: string): Promise<Suggestion | null> {
    return this.findById('bank', query);
  }

  private async findById(kind: 'party' | 'bank', query: string): Promise<Suggestion | null> {
    if (!this.o.apiKey) throw new ProviderNotConfiguredError();
    let res: HttpResponse;
    try {
      // findById only reads, though it is a POST: a repeat is harmless.
      res = await this.http.request('POST', `findById/${kind}`, { json: { query, count: 1 }, headers: { accept: 'application/json' }, idempotent: true });
    } catch (err) {
      throw unavailable(err);
    }
    if (res.status !== 200) throw new ProviderUnavailableError(`lookup provider answered HTTP ${res.status}`);
    try {
      const parsed = JSON.parse(res.body.toString('utf8')) as { suggestions?: Suggestion[] };
      return parsed.suggestions?.[0] ?? null;
    } catch {
      throw new ProviderUnavailableError('lookup provider answered with malformed JSON');
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

function unavailable(err: unknown): ProviderUnavailableError {
  if (err instanceof RateLimited) {
    return new ProviderUnavailableError('lookup provider rate limit reached', err.retryAfterMs === undefined ? 60 : Math.ceil(err.retryAfterMs / 1000));
  }
  if (!(err instanceof HttpError)) return new ProviderUnavailableError(`lookup provider unreachable: ${(err as Error).message}`);
  if (err.status === 401 || err.status === 403) return new ProviderUnavailableError(`lookup provider rejected the API key (HTTP ${err.status})`);
  if (err.status !== undefined) return new ProviderUnavailableError(`lookup provider answered HTTP ${err.status}`);
  return new ProviderUnavailableError(`lookup provider unreachable: ${err.reason}`);
}
