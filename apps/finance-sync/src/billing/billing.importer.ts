import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { FinanceBillingDocumentImported, FinanceBillingDocumentUpdated, type BillingDocumentSnapshot } from '@papka/contracts';
import { Commands } from '@papka/messaging';
import { CONFIG, type FinanceSyncConfig } from '../config';
import { ConnectorError } from '../connectors';
import { BillingConnector } from '../connectors/billing/billing.connector';
import { billingMoment, filterDate, TYPES_WITH_STATUS, type BillingPage, type BillingType, type RejectedBillingDocument, type RemoteBillingDocument } from '../connectors/billing/billing.mapper';
import { ConnectorPool } from '../connections/connector-pool';
import { ConnectionsRepository, type ConnectionRow } from '../connections/connections.repository';
import { derivedUuid } from '../webhooks/derived-id';
import { BillingRepository, type ImportPhase, type ImportPlan, type ImportRow } from './billing.repository';

/** Documents per page request. */
export const BILLING_PAGE_SIZE = 100;
/** Bounds one phase of one run: 100,000 pages of 100 is far beyond any billing account. */
const MAX_PAGES = 100_000;
const DAY_MS = 86_400_000;
/** The largest page asked for the documents of one second (see `second`). */
const SECOND_MAX = 1000;

/** Where a run is after a page: the phase, its next page and the documents read in it so far. */
interface Progress {
  phase: ImportPhase;
  nextPage: number;
  seen: number;
}

/** The Papka uuid of a billing document: derived from (connection, type, id), so it is known before the document is imported. */
export const billingDocumentUuid = (connectionId: string, type: string, id: string): string => derivedUuid(`billing:${connectionId}:${type}:${id}`);

/** What one page (or a second read again) held: the documents mapped and those set aside. */
type PageDocuments = Pick<BillingPage, 'documents' | 'rejected'>;

/**
 * A set-aside document's key, as a stored one's (`TYPE:id`). One without a type or an id is
 * keyed by a hash of what the billing sent, so the same one seen again is one row.
 */
function rejectedKey(d: RejectedBillingDocument): string {
  if (d.type !== null && d.id !== null) return `${d.type}:${d.id}`;
  return `?:${createHash('sha256').update(JSON.stringify(d.raw ?? null)).digest('base64url')}`;
}

/** What the stored document says; the same document seen again with the same hash changes nothing. */
function contentHash(d: RemoteBillingDocument): string {
  const { raw: _raw, ...fields } = d;
  return createHash('sha256').update(JSON.stringify(fields)).digest('base64url');
}

/**
 * Imports each billing connection's documents (001): on a schedule (FINANCE_BILLING_POLL_MS)
 * and on demand. One run freezes `date_to` when it starts, pages the list newest first with
 * page/size, and reads two ranges: the trailing window (since the last run's `date_to`, and at
 * least FINANCE_BILLING_RESCAN_DAYS back), then every bill older than that which Papka still
 * holds as open, because 001 has no updatedAt and a status change is seen only by reading the
 * bill again. Each page is stored, with its events and the run's progress, in one transaction,
 * so a run stopped by a 5xx (or a crash) continues at the page it did not store.
 */
@Injectable()
export class BillingImporter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BillingImporter.name);
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  /** Imports running in this process, by connection. */
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    @Inject(CONFIG) private readonly config: FinanceSyncConfig,
    private readonly repo: BillingRepository,
    private readonly connections: ConnectionsRepository,
    private readonly pool: ConnectorPool,
    private readonly commands: Commands,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.FINANCE_WORKER) this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled(this.running.values());
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err: unknown) => this.logger.error(`billing round failed: ${(err as Error).message}`, (err as Error).stack))
        .finally(() => {
          this.ticking = undefined;
          this.schedule(Math.max(200, this.config.FINANCE_WORKER_POLL_MS));
        });
    }, ms);
  }

  /** Schedules what is due and starts every due import no process is running. */
  async tick(): Promise<void> {
    const all = (await this.connections.listConnected()).filter((c) => c.target === 'billing' && c.state === 'active');
    for (const c of all) {
      if (this.stopped) return;
      if (this.running.has(c.id)) continue;
      await this.repo.schedule(c.accountId, c.id, randomUUID(), this.config.FINANCE_BILLING_POLL_MS);
      const run = await this.repo.claim(c.accountId, c.id, this.config.FINANCE_LEASE_MS);
      if (!run) continue;
      const p = this.run(c, run)
        .catch((err: unknown) => this.logger.error(`billing import ${run.id}: ${(err as Error).message}`, (err as Error).stack))
        .finally(() => this.running.delete(c.id));
      this.running.set(c.id, p);
    }
  }

  /** Creates an import now, or answers the connection's unfinished one (an interrupted one resumes at once). */
  request(accountId: string, connectionId: string): Promise<string> {
    return this.repo.request(accountId, connectionId, randomUUID());
  }

  private async run(c: ConnectionRow, run: ImportRow): Promise<void> {
    const connector = this.pool.for(c);
    if (!(connector instanceof BillingConnector)) throw new Error(`connection ${c.id} has no billing connector`);
    try {
      let plan: ImportPlan;
      if (run.pageBase === null || run.dateTo === null) {
        plan = await this.plan(c, connector);
        await this.repo.savePlan(c.accountId, run.id, plan);
        run = { ...run, ...plan, phase: 'window', nextPage: 0, seen: 0 };
      } else {
        plan = { pageBase: run.pageBase, dateTo: run.dateTo, windowFrom: run.windowFrom, openFrom: run.openFrom };
      }
      let phase: ImportPhase = run.phase;
      let next = run.nextPage;
      // Documents read in this range so far, as stored with the last page. Never next × size: a
      // billing that caps its pages answers fewer than asked, and a resumed run that counted its
      // earlier pages as full reached recordsTotal early and ended done, the oldest documents
      // never read.
      let seen = run.seen;
      // The date of the previous page's last document; undefined: not known (a resumed run).
      let lastDate: string | null | undefined = next > 0 ? undefined : null;
      while (phase !== 'done') {
        if (this.stopped) {
          await this.repo.release(c.accountId, run.id);
          return;
        }
        const range = this.range(plan, phase);
        if (!range) {
          phase = phase === 'window' ? 'open' : 'done';
          next = 0;
          seen = 0;
          lastDate = null;
          continue;
        }
        if (next >= MAX_PAGES) throw new ConnectorError('rejected', `more than ${MAX_PAGES} pages in one range`, 'GET /api/lite/billing/documents');
        const page = await connector.page({ ...range, page: plan.pageBase + next, size: BILLING_PAGE_SIZE });
        // Every document on the page counts, the ones set aside too (recordsTotal counts them).
        const count = page.entries.length;
        seen += count;
        // 001 orders by date only: documents of one second may come in another order on each
        // request, so when that second spans the boundary with the previous page, some of them
        // are on neither page. Such a second is read again on its own (the previous page ended
        // in it, or that is not known).
        const first = page.entries[0]?.date ?? null;
        const again: PageDocuments = next > 0 && first !== null && (lastDate === undefined || lastDate === first) ? await this.second(connector, plan.pageBase, first, range.types) : { documents: [], rejected: [] };
        const end = page.entries.at(-1);
        // A last document whose date is unreadable: where the page ended is not known.
        lastDate = end === undefined ? null : (end.date ?? undefined);
        // With a total, a range ends once that many were read (or a page is empty): a billing
        // that answers shorter pages than asked (its own cap) lost everything past the first one.
        // Without one, at the first short page.
        const last = count === 0 || (page.recordsTotal !== null ? seen >= page.recordsTotal : count < BILLING_PAGE_SIZE);
        const after: Progress = last ? { phase: phase === 'window' ? 'open' : 'done', nextPage: 0, seen: 0 } : { phase, nextPage: next + 1, seen };
        await this.store(c, run.id, page, again, after);
        if (after.phase !== phase) {
          seen = 0;
          lastDate = null;
        }
        phase = after.phase;
        next = after.nextPage;
      }
      await this.repo.finish(c.accountId, run.id, 'done', null);
      this.logger.log(`billing import ${run.id} of connection ${c.id} done`);
    } catch (err) {
      if (!(err instanceof ConnectorError)) {
        // Our side (the database, a bug): the run stays resumable.
        await this.repo.interrupt(c.accountId, run.id, (err as Error).message.slice(0, 500), this.config.FINANCE_UNAVAILABLE_RETRY_MS).catch(() => undefined);
        throw err;
      }
      switch (err.failure) {
        case 'unavailable':
        case 'rate_limited':
        case 'outcome_unknown':
          await this.repo.interrupt(c.accountId, run.id, err.message, Math.max(err.retryAfterMs ?? 0, this.config.FINANCE_UNAVAILABLE_RETRY_MS));
          return;
        case 'unauthorized':
        case 'payment_required':
        case 'settings_refused':
          await this.repo.finish(c.accountId, run.id, 'failed', err.message);
          await this.connections.pause(c.accountId, c.id, err.failure, this.config.FINANCE_PAUSE_PROBE_MS);
          return;
        case 'rejected':
          await this.repo.finish(c.accountId, run.id, 'failed', err.message);
          return;
      }
    }
  }

  /** Fixed once when a run starts; a resumed run keeps it, so its pages stay where they were. */
  private async plan(c: ConnectionRow, connector: BillingConnector): Promise<ImportPlan> {
    const now = Date.now();
    // One second back: a document made in this very second, after the first page, is not in range.
    const dateTo = filterDate(new Date(now - 1000));
    const last = await this.repo.lastDoneDateTo(c.accountId, c.id);
    const rescanFrom = filterDate(new Date(now - this.config.FINANCE_BILLING_RESCAN_DAYS * DAY_MS));
    const windowFrom = last === null ? null : last < rescanFrom ? last : rescanFrom;
    const open = windowFrom === null ? null : await this.repo.oldestOpen(c.accountId, c.id);
    const openFrom = open === null ? null : open.replace(' ', 'T');
    const pageBase = await connector.pageBase({ dateTo });
    return { pageBase, dateTo, windowFrom, openFrom: openFrom !== null && windowFrom !== null && openFrom < windowFrom ? openFrom : null };
  }

  /**
   * Every document of one second (`date` in 001's format), of the range's types. A second with
   * more than a page of documents is asked in one page of its own size (up to SECOND_MAX), since
   * paging it would meet the same unstable order; a billing that refuses or caps that size is
   * paged as usual, and one of its documents may then still be missed in this run.
   */
  private async second(connector: BillingConnector, pageBase: number, date: string, types: BillingType[] | undefined): Promise<PageDocuments> {
    const at = date.replace(' ', 'T');
    const q = { dateFrom: at, dateTo: at, types };
    const head = await connector.page({ ...q, page: pageBase, size: BILLING_PAGE_SIZE });
    const total = head.recordsTotal ?? head.entries.length;
    if (head.entries.length >= total) return head;
    if (total <= SECOND_MAX) {
      try {
        const whole = await connector.page({ ...q, page: pageBase, size: total });
        if (whole.entries.length >= total) return whole;
      } catch (err) {
        if (!(err instanceof ConnectorError && err.failure === 'rejected')) throw err;
      }
    }
    this.logger.warn(`billing: ${total} documents share the second ${date}; read in pages of ${BILLING_PAGE_SIZE}, one may be missed until the next run`);
    const docs = [...head.documents];
    const rejected = [...head.rejected];
    let read = head.entries.length;
    for (let n = 1; read < total && n < MAX_PAGES; n++) {
      const more = await connector.page({ ...q, page: pageBase + n, size: BILLING_PAGE_SIZE });
      if (more.entries.length === 0) break;
      read += more.entries.length;
      docs.push(...more.documents);
      rejected.push(...more.rejected);
    }
    return { documents: docs, rejected };
  }

  private range(plan: ImportPlan, phase: ImportPhase): { dateFrom: string | null; dateTo: string; types?: BillingType[] } | null {
    if (phase === 'window') return { dateFrom: plan.windowFrom, dateTo: plan.dateTo };
    if (phase === 'open' && plan.openFrom !== null && plan.windowFrom !== null) return { dateFrom: plan.openFrom, dateTo: plan.windowFrom, types: [...TYPES_WITH_STATUS] };
    return null;
  }

  /**
   * One page, with its boundary second read again (`again`): upserts, events and the run's
   * progress in one transaction. The run's document count takes the page's documents and those
   * of `again` that were new or changed (the rest were counted with an earlier page).
   *
   * A document the parser could not map (a status 001 does not list, an unreadable date or sum)
   * is set aside: recorded in `billing_rejected` with its reason (GET /v2/finance/billing/rejected)
   * and counted in the run's `rejected`, and the rest of the page is stored. Failing the page
   * instead failed every later run at the same page, and nothing older was ever imported. One
   * that is read and stored later is no longer set aside.
   */
  private async store(c: ConnectionRow, importId: string, page: PageDocuments, again: PageDocuments, after: Progress): Promise<void> {
    const key = (d: RemoteBillingDocument) => `${d.type}:${d.id}`;
    // A page may name a document twice (equal dates shifting under the billing): once is enough.
    const onPage = new Set(page.documents.map(key));
    const unique = [...new Map([...page.documents, ...again.documents].map((d) => [key(d), d])).values()];
    let counted = onPage.size;
    const stored = new Set(unique.map(key));
    const rejectedOnPage = new Set(page.rejected.map(rejectedKey));
    const rejected = [...new Map([...page.rejected, ...again.rejected].map((d) => [rejectedKey(d), { ...d, key: rejectedKey(d) }])).values()].filter((d) => !stored.has(d.key));
    if (page.rejected.length) {
      const named = page.rejected.slice(0, 5).map((d) => `${rejectedKey(d)} (${d.reason})`).join('; ');
      this.logger.warn(`billing import ${importId} of connection ${c.id}: ${page.rejected.length} document(s) set aside: ${named}`);
    }
    await this.commands.run(c.accountId, async (t) => {
      await this.repo.unreject(t.manager, c.accountId, c.id, [...stored]);
      await this.repo.reject(t.manager, c.accountId, c.id, importId, rejected);
      const known = await this.repo.hashes(t.manager, c.accountId, c.id, unique);
      const created: string[] = [];
      const updated: string[] = [];
      for (const doc of unique) {
        const hash = contentHash(doc);
        const before = known.get(key(doc));
        if (before === hash) continue;
        if (!onPage.has(key(doc))) counted++;
        const id = billingDocumentUuid(c.id, doc.type, doc.id);
        await this.repo.upsert(t.manager, c.accountId, c.id, { id, doc, docAt: billingMoment(doc.date), hash });
        (before === undefined ? created : updated).push(id);
      }
      const changed = new Set(created);
      for (const s of await this.repo.byIds(t.manager, c.accountId, [...created, ...updated])) {
        const data = this.eventData(c.id, s);
        if (changed.has(s.uuid)) await t.emit(FinanceBillingDocumentImported, s.uuid, data);
        else await t.emit(FinanceBillingDocumentUpdated, s.uuid, data);
      }
      await this.repo.advance(t.manager, c.accountId, importId, {
        ...after,
        documents: counted,
        rejected: [...rejectedOnPage].filter((k) => !stored.has(k)).length,
        created: created.length,
        updated: updated.length,
        leaseMs: this.config.FINANCE_LEASE_MS,
      });
    });
  }

  /** The full snapshot; a relation names its document's uuid even before that one is imported (it is derived). */
  private eventData(connectionId: string, s: BillingDocumentSnapshot): BillingDocumentSnapshot {
    return { ...s, relations: s.relations.map((r) => ({ ...r, uuid: r.uuid ?? billingDocumentUuid(connectionId, r.type, r.id) })) };
  }
}
