import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { isValidBik, isValidInn, isValidOgrn, isValidOgrnip } from '@papka/ru';
import { fieldError, LookupNotConfiguredError, LookupUnavailableError, NotFoundError } from '@papka/platform';
import { CONFIG, type ContractorsConfig } from '../config';
import { DadataClient, ProviderNotConfiguredError, ProviderUnavailableError, type Suggestion } from './dadata.client';
import { LookupCacheRepository } from './lookup-cache.repository';

/** Not-found answers are cached for at most an hour: a new company appears quickly. */
const NEGATIVE_TTL_SECONDS = 3_600;

/** Organisation and bank look-ups through the provider, behind a PostgreSQL cache. */
@Injectable()
export class LookupService implements OnApplicationShutdown {
  private readonly logger = new Logger(LookupService.name);
  readonly client: DadataClient;

  constructor(
    @Inject(CONFIG) private readonly config: ContractorsConfig,
    private readonly cache: LookupCacheRepository,
  ) {
    this.client = new DadataClient({
      baseUrl: config.DADATA_API_URL,
      apiKey: config.DADATA_API_KEY,
      timeoutMs: config.DADATA_TIMEOUT_MS,
    });
  }

  /** POST /v2/docs/findOrg: the party suggestion for an INN (or OGRN/OGRNIP). */
  async findOrg(query: string): Promise<Suggestion> {
    const q = query.trim();
    const len = q.length;
    const valid = isValidInn(q) || (len === 13 && isValidOgrn(q)) || (len === 15 && isValidOgrnip(q));
    if (!valid) throw fieldError('query', 'query must be a valid INN (10 or 12 digits) or OGRN');
    const found = await this.asHttp(() => this.party(q));
    if (!found) throw new NotFoundError(`organisation with INN ${q}`);
    return found;
  }

  /** GET /v2/docs/findBank: the bank suggestion for a BIK. */
  async findBank(query: string): Promise<Suggestion> {
    const q = query.trim();
    if (!isValidBik(q)) throw fieldError('query', 'query must be a valid BIK (9 digits starting with 04)');
    const found = await this.asHttp(() => this.bank(q));
    if (!found) throw new NotFoundError(`bank with BIK ${q}`);
    return found;
  }

  party(inn: string): Promise<Suggestion | null> {
    return this.cached('party', inn, () => this.client.findParty(inn));
  }

  bank(bik: string): Promise<Suggestion | null> {
    return this.cached('bank', bik, () => this.client.findBank(bik));
  }

  private async cached(kind: 'party' | 'bank', query: string, fetch: () => Promise<Suggestion | null>) {
    const hit = await this.cache.find(kind, query);
    const ttl = this.config.DADATA_CACHE_TTL_SECONDS;
    if (hit) {
      const age = (Date.now() - hit.fetchedAt.getTime()) / 1000;
      if (age < (hit.payload ? ttl : Math.min(ttl, NEGATIVE_TTL_SECONDS))) return hit.payload as Suggestion | null;
    }
    try {
      const payload = await fetch();
      if (ttl > 0) await this.cache.put(kind, query, payload);
      return payload;
    } catch (err) {
      // A stale answer beats none while the provider is down, but only a found one. An old "not
      // found" is no answer: served, it made a contractor created during the outage
      // `not_found` for good (never looked up again), and findOrg a 404 instead of a 503.
      if (hit?.payload && err instanceof ProviderUnavailableError) {
        this.logger.warn(`serving stale ${kind} ${query}: ${err.message}`);
        return hit.payload as Suggestion | null;
      }
      throw err;
    }
  }

  private async asHttp<T>(fn: () => Promise<T>): Promise<T> {
    // Without a key the endpoints are off, even for answers still in the cache.
    if (!this.client.configured) throw new LookupNotConfiguredError(new ProviderNotConfiguredError().message);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ProviderNotConfiguredError) throw new LookupNotConfiguredError(err.message);
      if (err instanceof ProviderUnavailableError) {
        throw new LookupUnavailableError(err.message, err.retryAfterSeconds ?? 30);
      }
      throw err;
    }
  }

  /**
   * After the HTTP server has drained (Nest closes it between `beforeApplicationShutdown` and
   * this hook): closed in `onModuleDestroy`, look-ups of requests still in flight failed as
   * 503s, or were deferred, during every rollout.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
