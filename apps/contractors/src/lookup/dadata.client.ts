import { Agent, request } from 'undici';

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
 * DaData-compatible suggestions API: `findById/party` and `findById/bank`. One keep-alive
 * connection pool, a hard timeout per call.
 */
export class DadataClient {
  private readonly agent: Agent;

  constructor(private readonly o: DadataClientOptions) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connections: 16,
      connect: { timeout: o.timeoutMs },
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
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
    const url = `${this.o.baseUrl.replace(/\/+$/, '')}/findById/${kind}`;
    let res;
    try {
      res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Token ${this.o.apiKey}`,
        },
        body: JSON.stringify({ query, count: 1 }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      throw new ProviderUnavailableError(`lookup provider unreachable: ${(err as Error).message}`);
    }
    const text = await res.body.text().catch(() => '');
    if (res.statusCode === 200) {
      try {
        const parsed = JSON.parse(text) as { suggestions?: Suggestion[] };
        return parsed.suggestions?.[0] ?? null;
      } catch {
        throw new ProviderUnavailableError('lookup provider answered with malformed JSON');
      }
    }
    if (res.statusCode === 429) {
      const retryAfter = Number(res.headers['retry-after']);
      throw new ProviderUnavailableError('lookup provider rate limit reached', Number.isFinite(retryAfter) ? retryAfter : 60);
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new ProviderUnavailableError(`lookup provider rejected the API key (HTTP ${res.statusCode})`);
    }
    throw new ProviderUnavailableError(`lookup provider answered HTTP ${res.statusCode}`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
