import { assertSafeBaseUrl, UnsafeUrlError } from '@papka/http-client';
import type { FinanceTarget } from '@papka/contracts';
import { ConnectorError, InvalidSettings, type Connector, type ConnectorOptions, type Settings } from '../connector';
import { BillingClient, DOCUMENTS_METHOD, type PageQuery } from './billing.client';
import { billingMoment, filterDate, type BillingPage } from './billing.mapper';

/** How many times the page-base probe steps back past a second whose documents tie. */
const PAGE_BASE_PROBES = 5;

export interface BillingSettings {
  /** The billing's own base URL (each company runs its own): https to a public address, or allowlisted. */
  baseUrl: string;
}

/** `settings.baseUrl` is required and must be a URL; the address rules are checked in `check`, after DNS. */
export function parseBillingSettings(raw: Settings): Settings {
  const baseUrl = raw.baseUrl;
  if (typeof baseUrl !== 'string' || baseUrl.trim() === '') throw new InvalidSettings('settings.baseUrl', 'settings.baseUrl is required (the billing server, https://...)');
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw new InvalidSettings('settings.baseUrl', 'settings.baseUrl must be a URL');
  }
  const extra = Object.keys(raw).filter((k) => k !== 'baseUrl');
  if (extra.length) throw new InvalidSettings(`settings.${extra[0]}`, `settings.${extra[0]} is not a billing setting`);
  return { baseUrl: url.toString().replace(/(?<!\/)\/+$/, '') };
}

/**
 * The billing API (001) behind the Connector port: it pushes nothing (its definition takes no
 * entities); the billing module pulls documents through `page` and `pageBase`.
 */
export class BillingConnector implements Connector {
  readonly target: FinanceTarget = 'billing';
  private client: BillingClient | undefined;
  private clientUrl: string | undefined;

  constructor(private readonly o: Pick<ConnectorOptions, 'token' | 'settings' | 'timeoutMs' | 'allowedHosts'>) {}

  private get baseUrl(): string {
    return String((this.o.settings as Partial<BillingSettings>).baseUrl ?? '');
  }

  private clientFor(baseUrl: string): BillingClient {
    if (this.client && this.clientUrl === baseUrl) return this.client;
    void this.client?.close().catch(() => undefined);
    this.client = new BillingClient(baseUrl, this.o.token, this.o.timeoutMs, this.o.allowedHosts);
    this.clientUrl = baseUrl;
    return this.client;
  }

  /** The URL guard (https, public addresses after DNS, or allowlisted), then one page of size 1. */
  async check(settings: Settings): Promise<Settings> {
    const parsed = parseBillingSettings(settings);
    const baseUrl = String(parsed.baseUrl);
    try {
      await assertSafeBaseUrl(baseUrl, { allowedHosts: this.o.allowedHosts });
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw new InvalidSettings('settings.baseUrl', `settings.baseUrl is refused: ${err.message}`);
      throw err;
    }
    await this.clientFor(baseUrl).page({ page: 1, size: 1 });
    return parsed;
  }

  async probe(): Promise<void> {
    await this.clientFor(this.baseUrl).page({ page: 1, size: 1 });
  }

  /** One page of the document list (newest first). */
  page(q: PageQuery): Promise<BillingPage> {
    return this.clientFor(this.baseUrl).page(q);
  }

  /**
   * Whether pages count from 0 or 1 (001 does not say). Two pages of size 1: a page 0 refused
   * (4xx, or a 5xx while page 1 answers) or empty while there are documents means 1; a page 0 equal to page 1 means the billing
   * reads 0 as 1; a page 0 with another document than page 1 means 0. With no documents at
   * all, 1 (nothing can be missed).
   */
  async pageBase(q: Omit<PageQuery, 'page' | 'size'> = {}): Promise<0 | 1> {
    let dateTo = q.dateTo;
    // Two documents of one second may come in either order on each request (001 orders by date
    // alone), so two such documents prove nothing: the probe is asked again before that second.
    // Still ambiguous after PAGE_BASE_PROBES (or nothing older than the tied seconds): 0, as
    // two different documents answered.
    for (let attempt = 1; ; attempt++) {
      const probe = await this.probePageBase({ ...q, dateTo });
      if (probe === 'empty') return attempt === 1 ? 1 : 0;
      if (typeof probe === 'number') return probe;
      if (attempt === PAGE_BASE_PROBES) return 0;
      dateTo = filterDate(new Date(billingMoment(probe.tied).getTime() - 1000));
    }
  }

  /** 0 or 1; 'empty' when page 0 is empty; or the second whose documents made the answer ambiguous. */
  private async probePageBase(q: Omit<PageQuery, 'page' | 'size'>): Promise<0 | 1 | 'empty' | { tied: string }> {
    let zero: BillingPage;
    try {
      zero = await this.page({ ...q, page: 0, size: 1 });
    } catch (err) {
      if (err instanceof ConnectorError && err.failure === 'rejected' && err.method === DOCUMENTS_METHOD) return 1;
      // A 1-based billing may fail on page 0 (a negative offset) with a 5xx: when page 1 answers,
      // it is 1 (before, every run stopped here as "unavailable" and imported nothing, for good).
      if (err instanceof ConnectorError && err.failure === 'unavailable' && err.method === DOCUMENTS_METHOD) {
        await this.page({ ...q, page: 1, size: 1 });
        return 1;
      }
      throw err;
    }
    // Entries, not documents: a document the parser sets aside (a status 001 does not list) is
    // still on the page and tells the pages apart as well.
    if (zero.entries.length === 0) return 'empty';
    const one = await this.page({ ...q, page: 1, size: 1 });
    const first = one.entries[0];
    const top = zero.entries[0]!;
    const same = first !== undefined && first.type === top.type && first.id === top.id;
    if (!same && first !== undefined && top.date !== null && first.date === top.date) return { tied: top.date };
    return same ? 1 : 0;
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }
}
