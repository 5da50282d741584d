import os from 'node:os';
import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { RenderRequested } from '@papka/contracts';
import { Commands } from '@papka/messaging';
import { isDatabaseUnavailable } from '@papka/persistence';
import { RenderBrowserUnavailableError } from '@papka/render-pool';
import { CONFIG, type DocumentsConfig } from '../config';
import { DocumentsRepository } from '../documents/documents.repository';
import { RenderHandoff, type LocalRenderQueue, type RenderSlot } from '../documents/render-handoff';
import { DocumentRendererService, RenderDependencyUnavailableError, type RenderJob } from './document-renderer.service';
import { RenderMetrics } from './render-metrics';
import { RenderPoolHost } from './render-pool.provider';

/**
 * Attempts a render request gets (first included) before its document is marked failed. A
 * dependency outage (storage, database, no browser while Chromium cannot be relaunched) does not
 * count: the request is tried again until it ends. A crash met while the document rendered does.
 */
export const RENDER_MAX_ATTEMPTS = 4;
/** Delay before attempt n+1 after a failure that counts (n starts at 1). */
export const renderBackoffMs = (n: number) => [1_000, 5_000, 15_000][n - 1] ?? 15_000;
/** Delay before trying again through a dependency outage (the n-th time in a row). */
const outageBackoffMs = (n: number) => [500, 1_000, 2_000, 5_000, 10_000][n] ?? 15_000;
/** How often a request waiting for room in a full queue (or for the browser) tells the consumer group it is alive. */
const HEARTBEAT_MS = 2_000;

interface Held {
  job: RenderJob;
  /** Attempts that failed and counted. */
  attempts: number;
  /** Dependency outages met in a row. */
  outages: number;
  timer?: NodeJS.Timeout;
}

const keyOf = (job: RenderJob) => `${job.documentId}:${job.revision}`;

/**
 * The render requests of this replica, off the consumer's sequential path. This replica's own
 * constructor (and a render asked again) hands its requests here directly once its transaction
 * has committed, through {@link reserve} (see RenderHandoff): no event, no bus, no inbox
 * transaction; when no place is free the command emits RenderRequested instead. The consumer
 * hands every request from the bus to {@link accept}, which returns as soon as the request is
 * held here (waiting, heartbeating, while `RENDER_BACKLOG` requests are), so it moves on at once;
 * `RENDER_CONCURRENCY` of them render at a time (default two per pool page: one in Chromium,
 * one reading its data or storing its file), each outside any transaction (see
 * DocumentRendererService.render).
 *
 * An accepted request is committed as consumed, yet never lost: the document row itself says
 * that it waits (`render_state = 'pending'` at its revision), and that row is the durable
 * queue. What is held here is only the replica's copy of it. Should the replica die with
 * requests in memory, a sweep (at start and every `RENDER_SWEEP_MS`, on every renderer
 * replica) takes the documents pending for longer than `RENDER_STALE_MS` and renders them;
 * taking one touches its `updated_at` in a `FOR UPDATE SKIP LOCKED` statement, so other
 * replicas' sweeps leave it alone for another `RENDER_STALE_MS`. Whoever finishes first
 * writes the outcome; the outcome is written only while the document still waits for that
 * revision, so a second render of the same request changes nothing (its file is removed).
 * Failures are retried here: a dependency outage without counting, others up to
 * {@link RENDER_MAX_ATTEMPTS} times with {@link renderBackoffMs}, after which the document is failed.
 *
 * While the pool has no browser (Chromium down and its relaunch failing, see RenderPool.available)
 * this replica takes no new work: reserve() answers null, so its constructor's requests go
 * through the bus to a replica that can render; accept() holds the consumer (heartbeating) until
 * the browser is back, leaving the requests on the bus; the sweep claims nothing. Requests already
 * held wait it out as an outage.
 */
@Injectable()
export class RenderQueue implements LocalRenderQueue, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(RenderQueue.name);
  /** Every request held: waiting, rendering or backing off. */
  private readonly held = new Map<string, Held>();
  private readonly ready: Held[] = [];
  private readonly roomWaiters = new Set<() => void>();
  private running = 0;
  /** Places held by reserve() for requests whose transactions have not committed yet. */
  private reserved = 0;
  private closing = false;
  /** Requests that came in while shutting down: handed back to the bus with those left held. */
  private readonly arrivedClosing = new Map<string, RenderJob>();
  /** Set once the shutdown has handed its requests back: any later one goes back on its own. */
  private handedBack = false;
  /** The requests handed back, so a redelivery of one is not written again. */
  private readonly handedBackKeys = new Set<string>();
  /** Past this (ms), a shutting-down queue starts no render it holds. */
  private drainUntil = Infinity;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private readonly concurrency: number;
  private readonly backlog: number;

  constructor(
    @Inject(CONFIG) private readonly config: DocumentsConfig,
    private readonly renderer: DocumentRendererService,
    private readonly host: RenderPoolHost,
    private readonly documents: DocumentsRepository,
    private readonly metrics: RenderMetrics,
    private readonly commands: Commands,
    @Optional() private readonly handoff?: RenderHandoff,
  ) {
    this.concurrency = config.RENDER_CONCURRENCY ?? 2 * (config.RENDER_PAGES ?? Math.max(1, os.cpus().length));
    this.backlog = Math.max(this.concurrency, config.RENDER_BACKLOG);
  }

  onApplicationBootstrap(): void {
    // The constructor of this replica hands its render requests here directly (see RenderHandoff).
    if (this.host.pool) this.handoff?.attach(this);
    if (!this.host.pool || this.config.RENDER_SWEEP_MS === 0) return;
    const every = this.config.RENDER_SWEEP_MS;
    const tick = () => {
      this.sweepTimer = setTimeout(() => {
        this.sweeping = this.sweep().finally(() => {
          this.sweeping = undefined;
          if (!this.closing) tick();
        });
      }, every);
      this.sweepTimer.unref();
    };
    this.sweeping = this.sweep().finally(() => {
      this.sweeping = undefined;
      if (!this.closing) tick();
    });
  }

  /**
   * Stops taking requests and gives those held here up to `RENDER_DRAIN_MS` to start; waits
   * for the renders in flight. What is left (not started, backing off, or come in meanwhile) is
   * handed back in {@link onApplicationShutdown}.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.handoff?.attach(null);
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    for (const wake of this.roomWaiters) wake();
    await this.sweeping;
    this.drainUntil = Date.now() + this.config.RENDER_DRAIN_MS;
    while (this.running > 0 || (this.ready.length > 0 && Date.now() < this.drainUntil)) await new Promise((r) => setTimeout(r, 20));
    for (const h of this.held.values()) if (h.timer) clearTimeout(h.timer);
  }

  /**
   * Once Nest has closed the HTTP server and the consumers (so no request can reach this
   * replica any more, nor its own hand back come back to it), what it still holds is handed
   * back: a RenderRequested event each, in one outbox transaction, for any renderer replica
   * (published by this replica's relay or, once that has stopped, by another's; in embedded
   * mode at the next start). Without it those documents waited `RENDER_STALE_MS` for a sweep.
   * A second render of one is harmless (the outcome is written only while the document still
   * waits for that revision). Should the hand back fail (the database down), the sweep still
   * takes them.
   */
  async onApplicationShutdown(): Promise<void> {
    const left = new Map(this.arrivedClosing);
    for (const [key, h] of this.held) left.set(key, h.job);
    this.held.clear();
    this.ready.length = 0;
    this.arrivedClosing.clear();
    this.handedBack = true;
    await this.handBack([...left.values()]);
  }

  /** Requests this replica will not render, as RenderRequested events for the bus (see onApplicationShutdown). */
  private async handBack(all: RenderJob[]): Promise<void> {
    const jobs = all.filter((j) => !this.handedBackKeys.has(keyOf(j)));
    if (jobs.length === 0) return;
    try {
      await this.commands.run(jobs[0]!.accountId, (t) =>
        t.emitMany(
          RenderRequested,
          jobs.map((j) => ({ accountId: j.accountId, aggregateId: j.documentId, data: { documentId: j.documentId, revision: j.revision } })),
        ),
      );
      for (const j of jobs) this.handedBackKeys.add(keyOf(j));
      this.logger.log(`shutting down: ${jobs.length} render requests handed back to the bus`);
    } catch (err) {
      this.logger.warn(`shutting down: ${jobs.length} render requests could not be handed back (${(err as Error).message}); a sweep renders them after RENDER_STALE_MS`);
    }
  }

  /** A request that came in while shutting down: kept for the hand back, or handed back now when that is done. */
  private whileClosing(job: RenderJob): Promise<void> {
    if (this.handedBack) return this.handBack([job]);
    this.arrivedClosing.set(keyOf(job), job);
    return Promise.resolve();
  }

  /** Requests held here now (waiting, rendering or backing off). */
  get size(): number {
    return this.held.size;
  }

  /** Requests held, and places reserved for requests about to be committed. */
  private get taken(): number {
    return this.held.size + this.reserved;
  }

  /** The pool has a browser, or one starting that has not failed to (see RenderPool.available). */
  private get browserUp(): boolean {
    return this.host.pool?.available() ?? false;
  }

  /**
   * A place for a request about to be committed (the constructor's, see RenderHandoff), or
   * null when the queue is full or closing, or Chromium is down: the request then goes through
   * the bus (to a replica that can render it, or to this one once its browser is back). The place
   * counts against `RENDER_BACKLOG` until it is filled or cancelled. A request filled in while
   * shutting down is handed back to the bus (see onApplicationShutdown).
   */
  reserve(): RenderSlot | null {
    if (!this.host.pool || this.closing || this.taken >= this.backlog || !this.browserUp) return null;
    this.reserved++;
    let open = true;
    const close = () => {
      if (!open) return false;
      open = false;
      this.reserved--;
      return true;
    };
    return {
      fill: (job) => {
        if (!close()) return;
        if (this.closing) {
          void this.whileClosing(job);
          this.wakeRoom();
        } else if (!this.hold(job)) this.wakeRoom();
      },
      cancel: () => {
        if (close()) this.wakeRoom();
      },
    };
  }

  /**
   * Takes a render request: resolves once it is held here, waiting while the queue is full or
   * the pool has no browser (calling `heartbeat` meanwhile, so a Kafka consumer group keeps this
   * member): requests stay on the bus through a Chromium outage instead of piling up here, each
   * failing at once. A request already held (a redelivery, or a sweep that found it first) is
   * not taken twice.
   */
  async accept(job: RenderJob, heartbeat?: () => Promise<void>): Promise<void> {
    if (!this.host.pool) throw new Error('rendering is disabled on this replica (RENDER_ENABLED=false)');
    // Room is signalled (roomWaiters); the browser's return is seen at the next heartbeat.
    while ((this.taken >= this.backlog || !this.browserUp) && !this.closing) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, HEARTBEAT_MS);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.roomWaiters.add(done);
      });
      this.roomWaiters.clear();
      await heartbeat?.();
    }
    // Shutting down: handed back to the bus, committed there before this record is.
    if (this.closing) return this.whileClosing(job);
    this.hold(job);
  }

  private hold(job: RenderJob): boolean {
    const key = keyOf(job);
    if (this.held.has(key)) return false;
    const h: Held = { job, attempts: 0, outages: 0 };
    this.held.set(key, h);
    this.ready.push(h);
    this.pump();
    return true;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.ready.length > 0 && Date.now() < this.drainUntil) {
      const h = this.ready.shift()!;
      this.running++;
      void this.run(h).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(h: Held): Promise<void> {
    const { job } = h;
    if (h.attempts === 0 && h.outages === 0 && job.requestedAt !== undefined) {
      this.metrics.phase('queue', Math.max(0, Date.now() - job.requestedAt) / 1000);
    }
    try {
      await this.renderer.render(job, h.attempts + 1 >= RENDER_MAX_ATTEMPTS);
      this.release(h);
    } catch (err) {
      if (err instanceof RenderDependencyUnavailableError || err instanceof RenderBrowserUnavailableError || isDatabaseUnavailable(err)) {
        this.retryLater(h, outageBackoffMs(h.outages++));
        return;
      }
      h.outages = 0;
      h.attempts++;
      if (h.attempts >= RENDER_MAX_ATTEMPTS) {
        // The last attempt records the failure itself; an error here means even that failed.
        this.logger.error(`document ${job.documentId} could not be marked failed: ${(err as Error).message}; a sweep will try again`);
        this.release(h);
        return;
      }
      const delay = renderBackoffMs(h.attempts);
      this.logger.warn(`document ${job.documentId} failed to render (attempt ${h.attempts}), retrying in ${delay} ms: ${(err as Error).message}`);
      this.retryLater(h, delay);
    }
  }

  /** Shutting down, the request stays held (not ready) for the hand back. */
  private retryLater(h: Held, ms: number): void {
    if (this.closing) return;
    h.timer = setTimeout(() => {
      h.timer = undefined;
      if (this.closing) return;
      this.ready.push(h);
      this.pump();
    }, ms);
  }

  private release(h: Held): void {
    this.held.delete(keyOf(h.job));
    this.wakeRoom();
  }

  private wakeRoom(): void {
    for (const wake of this.roomWaiters) wake();
  }

  /**
   * Takes the documents left pending for longer than RENDER_STALE_MS, as many as there is room
   * for; none while Chromium is down (claiming them would keep other replicas' sweeps off them).
   */
  async sweep(): Promise<number> {
    const room = this.backlog - this.taken;
    if (this.closing || room <= 0 || !this.browserUp) return 0;
    try {
      const stale = await this.documents.claimStalePending(this.config.RENDER_STALE_MS, room);
      let taken = 0;
      for (const d of stale) if (this.hold({ accountId: d.accountId, documentId: d.id, revision: d.revision })) taken++;
      if (taken > 0) this.logger.warn(`rendering ${taken} documents left pending for over ${this.config.RENDER_STALE_MS} ms`);
      return taken;
    } catch (err) {
      this.logger.warn(`the sweep for documents left pending failed: ${(err as Error).message}`);
      return 0;
    }
  }
}
