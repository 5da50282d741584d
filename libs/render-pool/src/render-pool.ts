import os from 'node:os';
import { BrowserGeneration, type GenerationHost, type RenderJob, type RenderLog } from './browser-generation';
import { launchChromium } from './chromium';
import { RenderBrowserUnavailableError, RenderCrashedError, RenderPoolClosedError, RenderQueueFullError } from './errors';
import type { LaunchRenderBrowser } from './render-browser';

export type { RenderLogLevel } from './browser-generation';

export interface RenderPoolOptions {
  executablePath: string;
  /** Warm pages, about one per core (default max(1, cpus)). */
  pages?: number;
  /** Recycle a page after this many jobs (default 200). */
  maxJobsPerPage?: number;
  /** Restart the browser after this many jobs (default 5000). */
  maxJobsPerBrowser?: number;
  /** Jobs waiting for a page; beyond it render() rejects at once with RenderQueueFullError (default 64). */
  queueLimit?: number;
  /** Per job, counted from the moment it gets a page (default 30 000). */
  jobTimeoutMs?: number;
  log?: RenderLog;
  /**
   * Directories of fonts the browser gets as local fonts, ahead of the host's: documents name
   * the family, instead of inlining the font as data: into every page (parsed on every job).
   */
  fontDirs?: readonly string[];
  /** Browser factory; tests inject a fake. Defaults to puppeteer-core's Chromium. */
  launch?: LaunchRenderBrowser;
}

export interface RenderOptions {
  landscape?: boolean;
  /** Overrides the pool's jobTimeoutMs for this job. */
  timeoutMs?: number;
}

export interface RenderPoolStats {
  pages: number;
  idle: number;
  queued: number;
  jobs: number;
  browserRestarts: number;
  pageRecycles: number;
}

const RELAUNCH_BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * A warm Chromium with a pool of warm, reused pages (DESIGN.md §4). Reusing a page costs a
 * quarter of opening one per job, so pages live for `maxJobsPerPage` jobs and are replaced in
 * the background, as is any page a job failed on. Every job settles: with a PDF, or with
 * RenderQueueFullError / RenderTimeoutError / RenderCrashedError / RenderPoolClosedError, or
 * RenderBrowserUnavailableError (a RenderCrashedError) when there is no browser to run it on.
 * Each browser is a {@link BrowserGeneration} that keeps its own pages; the pool queues jobs,
 * hands them to the current generation, and replaces it on a crash or after its job quota.
 */
export class RenderPool {
  private readonly pageCount: number;
  private readonly maxJobsPerBrowser: number;
  private readonly queueLimit: number;
  private readonly jobTimeoutMs: number;
  private readonly launchBrowser: LaunchRenderBrowser;
  private readonly log: RenderLog;
  /** What every generation of this pool calls back. */
  private readonly host: GenerationHost;

  private readonly queue: RenderJob[] = [];
  private readonly generations = new Set<BrowserGeneration>();
  private current: BrowserGeneration | undefined;
  private launching: Promise<void> | undefined;
  private nextGenerationId = 1;
  private started = false;
  private closed = false;
  /** Dispatched and not yet settled; close() waits for these. */
  private readonly running = new Set<RenderJob>();
  private drained: (() => void) | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private relaunchFailures = 0;
  private plannedRestartNotBefore = 0;

  private jobs = 0;
  private browserRestarts = 0;
  private pageRecycles = 0;

  constructor(private readonly o: RenderPoolOptions) {
    this.pageCount = Math.max(1, o.pages ?? os.cpus().length);
    this.maxJobsPerBrowser = Math.max(1, o.maxJobsPerBrowser ?? 5000);
    this.queueLimit = Math.max(0, o.queueLimit ?? 64);
    this.jobTimeoutMs = o.jobTimeoutMs ?? 30_000;
    this.launchBrowser = o.launch ?? launchChromium;
    this.log = o.log ?? (() => undefined);
    this.host = {
      pages: this.pageCount,
      maxJobsPerPage: Math.max(1, o.maxJobsPerPage ?? 200),
      jobTimeoutMs: this.jobTimeoutMs,
      log: this.log,
      isClosed: () => this.closed,
      settle: (job, result) => this.settle(job, result),
      pump: () => this.pump(),
      later: (ms, fn) => this.later(ms, fn),
      lose: (gen, reason) => this.lose(gen, reason),
      forget: (gen) => this.generations.delete(gen),
      recycled: () => {
        this.pageRecycles++;
        this.log('debug', 'render page recycled', { pageRecycles: this.pageRecycles });
      },
    };
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('RenderPool already started');
    this.started = true;
    const launch = this.launchGeneration();
    // Jobs submitted meanwhile queue for the first browser; close() waits for it.
    this.launching = launch.then(
      () => undefined,
      () => undefined,
    );
    let gen: BrowserGeneration;
    try {
      gen = await launch;
    } catch (err) {
      this.started = false; // start() may be tried again
      for (const job of this.queue.splice(0)) {
        this.settle(job, new RenderBrowserUnavailableError('Chromium did not start', { cause: err }));
      }
      throw err;
    } finally {
      this.launching = undefined;
    }
    if (this.closed) {
      await gen.close();
      throw new RenderPoolClosedError('RenderPool closed while starting');
    }
    this.activate(gen);
  }

  render(html: string, opts: RenderOptions = {}): Promise<Buffer> {
    if (this.closed) return Promise.reject(new RenderPoolClosedError('RenderPool is closed'));
    if (!this.started) return Promise.reject(new Error('RenderPool not started'));
    if (!this.current && !this.launching) {
      // Between failed relaunch attempts there is no browser and none on its way: fail fast
      // rather than park the job for a backoff period.
      return Promise.reject(new RenderBrowserUnavailableError('Chromium is unavailable; relaunch pending'));
    }
    if (this.queue.length >= this.queueLimit && !this.hasIdlePage()) {
      return Promise.reject(new RenderQueueFullError(`Render queue is full (${this.queueLimit} waiting)`));
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({
        html,
        landscape: opts.landscape ?? false,
        timeoutMs: opts.timeoutMs ?? this.jobTimeoutMs,
        resolve,
        reject,
        settled: false,
      });
      this.pump();
    });
  }

  stats(): RenderPoolStats {
    const gen = this.current;
    return {
      pages: gen ? gen.pageCount : 0,
      idle: gen ? gen.idleCount : 0,
      queued: this.queue.length,
      jobs: this.jobs,
      browserRestarts: this.browserRestarts,
      pageRecycles: this.pageRecycles,
    };
  }

  /**
   * Whether a job submitted now gets a browser: one is up, or one is starting that has not
   * failed to (the first start, or the relaunch right after a crash). False before start(), once
   * closed, and while Chromium cannot be relaunched: between failed attempts render() rejects at
   * once with RenderBrowserUnavailableError, and a failed attempt rejects the jobs waiting for it
   * so; it turns true again once a relaunch succeeds. Callers use it to send work elsewhere
   * meanwhile. Unlike {@link ping}, synchronous and without a CDP round trip.
   */
  available(): boolean {
    if (this.closed || !this.started) return false;
    if (this.current?.state === 'active') return true;
    return this.launching !== undefined && this.relaunchFailures === 0;
  }

  /** Health probe: the browser is connected and answers a CDP round trip in time. Never throws. */
  async ping(): Promise<boolean> {
    const gen = this.current;
    if (this.closed || !gen) return false;
    return gen.ping();
  }

  /** For tests that kill Chromium to prove crash recovery. */
  browserPid(): number | undefined {
    return this.current?.browser.pid();
  }

  /**
   * Rejects queued jobs, lets running ones finish (each is bounded by its timeout), then closes
   * every browser. Leaves no timers behind.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const job of this.queue.splice(0)) this.settle(job, new RenderPoolClosedError('RenderPool closed'));
    if (this.running.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    // A launch under way finishes into a generation that sees `closed` and closes itself.
    await this.launching;
    await Promise.all([...this.generations].map((gen) => gen.close()));
    this.current = undefined;
  }

  // ---- dispatch ---------------------------------------------------------------------------

  private hasIdlePage(): boolean {
    return this.current?.state === 'active' && this.current.idleCount > 0;
  }

  private pump(): void {
    const gen = this.current;
    if (!gen || gen.state !== 'active') return;
    while (this.queue.length > 0 && gen.idleCount > 0) {
      const job = this.queue.shift() as RenderJob;
      this.running.add(job);
      gen.run(job, gen.takeIdle()!);
      if (gen.dispatched >= this.maxJobsPerBrowser) this.planRestart(gen);
    }
  }

  private settle(job: RenderJob, result: Buffer | Error): void {
    if (job.settled) return;
    job.settled = true;
    job.html = '';
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
    if (result instanceof Error) job.reject(result);
    else job.resolve(result);
    const gen = job.gen;
    if (gen) {
      this.jobs++;
      this.running.delete(job);
      if (this.running.size === 0) this.drained?.();
      gen.settled(job);
    }
  }

  // ---- browsers ---------------------------------------------------------------------------

  private async launchGeneration(): Promise<BrowserGeneration> {
    const browser = await this.launchBrowser({ executablePath: this.o.executablePath, fontDirs: this.o.fontDirs });
    const gen = new BrowserGeneration(this.nextGenerationId++, browser, this.host);
    this.generations.add(gen);
    browser.onDisconnected(() => this.lose(gen, 'disconnected'));
    try {
      await gen.warm();
    } catch (err) {
      await gen.close();
      throw err;
    }
    if (gen.state === 'dead') throw new RenderCrashedError('Chromium died while warming up');
    this.log('info', 'Chromium ready', { browser: gen.id, pid: browser.pid(), pages: this.pageCount });
    return gen;
  }

  private activate(gen: BrowserGeneration): void {
    const previous = this.current;
    gen.state = 'active';
    this.current = gen;
    if (previous && previous.state === 'active') previous.retire();
    this.pump();
  }

  /** Graceful restart after maxJobsPerBrowser: the old browser serves until the new one is warm. */
  private planRestart(gen: BrowserGeneration): void {
    if (this.closed || this.launching || gen !== this.current || Date.now() < this.plannedRestartNotBefore) return;
    this.log('info', 'restarting Chromium after its job quota', { browser: gen.id, jobs: gen.dispatched });
    this.relaunch(false);
  }

  /** The browser died (or is given up on): fail its jobs, relaunch, queued jobs wait for the new one. */
  private lose(gen: BrowserGeneration, reason: string): void {
    const wasServing = gen.state === 'active';
    if (!gen.die(reason) || !wasServing || this.closed) return;
    this.log('error', 'Chromium lost; relaunching', { browser: gen.id, reason });
    if (this.current === gen) this.current = undefined;
    this.relaunch(true);
  }

  private relaunch(crashed: boolean): void {
    if (this.closed || this.launching) return;
    this.browserRestarts++;
    this.launching = this.launchGeneration().then(
      (gen) => {
        this.launching = undefined;
        this.relaunchFailures = 0;
        if (this.closed) return gen.close();
        this.activate(gen);
      },
      (err: unknown) => {
        this.launching = undefined;
        const delay = RELAUNCH_BACKOFF_MS[Math.min(this.relaunchFailures++, RELAUNCH_BACKOFF_MS.length - 1)];
        this.log(crashed ? 'error' : 'warn', 'Chromium launch failed', { error: String(err), retryInMs: delay });
        if (this.current) {
          // The old browser still serves; try the planned restart again later.
          this.plannedRestartNotBefore = Date.now() + delay;
          return;
        }
        for (const job of this.queue.splice(0)) {
          this.settle(job, new RenderBrowserUnavailableError('Chromium is unavailable', { cause: err }));
        }
        this.later(delay, () => this.relaunch(true));
      },
    );
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
