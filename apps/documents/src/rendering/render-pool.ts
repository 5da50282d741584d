import os from 'node:os';
import { launchChromium } from './chromium';
import { RenderCrashedError, RenderPoolClosedError, RenderQueueFullError, RenderTimeoutError } from './errors';
import type { LaunchRenderBrowser, RenderBrowser, RenderPage } from './render-browser';

export type RenderLogLevel = 'error' | 'warn' | 'info' | 'debug';

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
  log?: (level: RenderLogLevel, message: string, extra?: Record<string, unknown>) => void;
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

interface Job {
  html: string;
  landscape: boolean;
  timeoutMs: number;
  resolve: (pdf: Buffer) => void;
  reject: (err: Error) => void;
  settled: boolean;
  /** The browser it runs on, once it got a page (counts in stats().jobs once settled). */
  gen?: Generation;
  timer?: NodeJS.Timeout;
}

interface Slot {
  page: RenderPage;
  jobs: number;
  gen: Generation;
  job?: Job;
  /** Its replacement is being opened (quota reached); it serves until that is ready. */
  renewing: boolean;
}

/** One browser process and its pages. */
interface Generation {
  id: number;
  browser: RenderBrowser;
  /** warming: pages being made; active: takes jobs; retiring: finishes its jobs then closes. */
  state: 'warming' | 'active' | 'retiring' | 'dead';
  /** Pages that count towards the pool size; a replaced page finishing its job is not among them. */
  slots: Set<Slot>;
  idle: Slot[];
  /** Jobs dispatched here and not yet settled. */
  running: Set<Job>;
  creating: number;
  pageFailures: number;
  dispatched: number;
}

const PAGE_CREATE_ATTEMPTS = 3;
/** Opening a page is not a job: a tight job timeout must not starve the pool of pages. */
const PAGE_OPEN_TIMEOUT_MS = 30_000;
const CLOSE_GRACE_MS = 5_000;
const PING_TIMEOUT_MS = 5_000;
const RELAUNCH_BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * A warm Chromium with a pool of warm, reused pages (DESIGN.md §4). Reusing a page costs a
 * quarter of opening one per job, so pages live for `maxJobsPerPage` jobs and are replaced in
 * the background, as is any page a job failed on. Every job settles: with a PDF, or with
 * RenderQueueFullError / RenderTimeoutError / RenderCrashedError / RenderPoolClosedError.
 */
export class RenderPool {
  private readonly pageCount: number;
  private readonly maxJobsPerPage: number;
  private readonly maxJobsPerBrowser: number;
  private readonly queueLimit: number;
  private readonly jobTimeoutMs: number;
  private readonly launchBrowser: LaunchRenderBrowser;
  private readonly log: NonNullable<RenderPoolOptions['log']>;

  private readonly queue: Job[] = [];
  private readonly generations = new Set<Generation>();
  private current: Generation | undefined;
  private launching: Promise<void> | undefined;
  private nextGenerationId = 1;
  private started = false;
  private closed = false;
  /** Dispatched and not yet settled; close() waits for these. */
  private readonly running = new Set<Job>();
  private drained: (() => void) | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private relaunchFailures = 0;
  private plannedRestartNotBefore = 0;

  private jobs = 0;
  private browserRestarts = 0;
  private pageRecycles = 0;

  constructor(private readonly o: RenderPoolOptions) {
    this.pageCount = Math.max(1, o.pages ?? os.cpus().length);
    this.maxJobsPerPage = Math.max(1, o.maxJobsPerPage ?? 200);
    this.maxJobsPerBrowser = Math.max(1, o.maxJobsPerBrowser ?? 5000);
    this.queueLimit = Math.max(0, o.queueLimit ?? 64);
    this.jobTimeoutMs = o.jobTimeoutMs ?? 30_000;
    this.launchBrowser = o.launch ?? launchChromium;
    this.log = o.log ?? (() => undefined);
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
    let gen: Generation;
    try {
      gen = await launch;
    } catch (err) {
      this.started = false; // start() may be tried again
      for (const job of this.queue.splice(0)) {
        this.settle(job, new RenderCrashedError('Chromium did not start', { cause: err }));
      }
      throw err;
    } finally {
      this.launching = undefined;
    }
    if (this.closed) {
      await this.closeGeneration(gen);
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
      return Promise.reject(new RenderCrashedError('Chromium is unavailable; relaunch pending'));
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
      pages: gen ? gen.slots.size : 0,
      idle: gen ? gen.idle.length : 0,
      queued: this.queue.length,
      jobs: this.jobs,
      browserRestarts: this.browserRestarts,
      pageRecycles: this.pageRecycles,
    };
  }

  /** Health probe: the browser is connected and answers a CDP round trip in time. Never throws. */
  async ping(): Promise<boolean> {
    const gen = this.current;
    if (this.closed || !gen || gen.state !== 'active' || !gen.browser.connected()) return false;
    try {
      await this.withTimeout(gen.browser.version(), PING_TIMEOUT_MS, 'ping');
      return true;
    } catch {
      return false;
    }
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
    await Promise.all([...this.generations].map((gen) => this.closeGeneration(gen)));
    this.current = undefined;
  }

  // ---- dispatch ---------------------------------------------------------------------------

  private hasIdlePage(): boolean {
    return this.current?.state === 'active' && this.current.idle.length > 0;
  }

  private pump(): void {
    const gen = this.current;
    if (!gen || gen.state !== 'active') return;
    while (this.queue.length > 0 && gen.idle.length > 0) {
      const job = this.queue.shift() as Job;
      const slot = gen.idle.pop() as Slot;
      this.run(job, slot);
    }
  }

  private run(job: Job, slot: Slot): void {
    const gen = slot.gen;
    slot.job = job;
    gen.dispatched++;
    job.gen = gen;
    gen.running.add(job);
    this.running.add(job);
    job.timer = setTimeout(() => {
      if (job.settled) return;
      this.log('warn', 'render job timed out; discarding its page', { timeoutMs: job.timeoutMs, browser: gen.id });
      this.settle(job, new RenderTimeoutError(`Render timed out after ${job.timeoutMs} ms`));
      this.discard(slot);
    }, job.timeoutMs);
    // Reused below only by reference: nothing of the job outlives it.
    const html = job.html;
    job.html = '';
    slot.page.render(html, { landscape: job.landscape, timeoutMs: job.timeoutMs }).then(
      (pdf) => this.finish(slot, job, pdf),
      (err: unknown) => this.finish(slot, job, this.classify(gen, err)),
    );
    if (gen.dispatched >= this.maxJobsPerBrowser) this.planRestart(gen);
  }

  private finish(slot: Slot, job: Job, result: Uint8Array | Error): void {
    if (slot.job === job) slot.job = undefined;
    const failed = result instanceof Error;
    const wasPending = !job.settled;
    this.settle(job, failed ? result : Buffer.from(result.buffer, result.byteOffset, result.byteLength));
    if (failed && wasPending) this.log('warn', 'render job failed; recycling its page', { error: result.message });
    if (!wasPending) {
      // Timed out or crashed: the page is already gone.
    } else if (failed) {
      this.discard(slot);
    } else {
      if (++slot.jobs >= this.maxJobsPerPage && slot.gen.slots.has(slot)) this.renew(slot);
      this.release(slot);
    }
  }

  private classify(gen: Generation, err: unknown): Error {
    if (err instanceof RenderCrashedError) return err;
    // The protocol connection drops before the job's CDP calls are rejected, so a dead browser
    // is already visible here.
    if (gen.state === 'dead' || !gen.browser.connected()) {
      return new RenderCrashedError('Chromium disconnected during the render', { cause: err });
    }
    if (err instanceof Error && err.name === 'TimeoutError') {
      return new RenderTimeoutError(err.message, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  private settle(job: Job, result: Buffer | Error): void {
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
      gen.running.delete(job);
      this.running.delete(job);
      if (this.running.size === 0) this.drained?.();
      this.retireIfDrained(gen);
    }
  }

  // ---- pages ------------------------------------------------------------------------------

  private release(slot: Slot): void {
    const gen = slot.gen;
    if (gen.state === 'active' && gen.slots.has(slot)) {
      // pump() takes from the end: a page past its quota is used only when no other is idle.
      if (slot.renewing) gen.idle.unshift(slot);
      else gen.idle.push(slot);
      this.pump();
    } else {
      // Replaced while it ran, or its browser is going away.
      gen.slots.delete(slot);
      slot.page.close().catch(() => undefined);
    }
  }

  /** Error or timeout: the page goes now; a replacement is opened in the background. */
  private discard(slot: Slot): void {
    const gen = slot.gen;
    if (!gen.slots.has(slot)) {
      slot.page.close().catch(() => undefined);
      return;
    }
    this.dropSlot(slot);
    this.pageRecycles++;
    this.replenish(gen);
  }

  private dropSlot(slot: Slot): void {
    const gen = slot.gen;
    gen.slots.delete(slot);
    const i = gen.idle.indexOf(slot);
    if (i >= 0) gen.idle.splice(i, 1);
    slot.page.close().catch(() => undefined);
  }

  /** Tops the pool up to `pages` after discards. */
  private replenish(gen: Generation): void {
    while (this.usable(gen) && gen.slots.size + gen.creating < this.pageCount) {
      gen.creating++;
      void this.openPage(gen).then((page) => {
        gen.creating--;
        if (page) this.addPage(gen, page);
        else if (this.usable(gen)) this.later(100 * gen.pageFailures, () => this.replenish(gen));
      });
    }
  }

  /**
   * Quota reached: the page keeps serving while its replacement opens, so recycling never makes
   * a job wait for a page to open (~100 ms). Replacements are not counted in `creating`, so a
   * discard meanwhile is topped up on its own.
   */
  private renew(slot: Slot): void {
    const gen = slot.gen;
    if (slot.renewing || !this.usable(gen)) return;
    slot.renewing = true;
    void this.openPage(gen).then((page) => {
      if (!page) {
        slot.renewing = false; // Tried again after the slot's next job.
        return;
      }
      if (gen.slots.has(slot)) {
        this.pageRecycles++;
        if (slot.job) gen.slots.delete(slot); // Closed by release() once its job is done.
        else this.dropSlot(slot);
      } else if (gen.slots.size + gen.creating >= this.pageCount) {
        // The old page was discarded meanwhile and already replaced.
        page.close().catch(() => undefined);
        return;
      }
      this.addPage(gen, page);
    });
  }

  private addPage(gen: Generation, page: RenderPage): void {
    if (!this.usable(gen)) {
      page.close().catch(() => undefined);
      return;
    }
    const slot: Slot = { page, jobs: 0, gen, renewing: false };
    gen.slots.add(slot);
    gen.idle.push(slot);
    this.pump();
  }

  private usable(gen: Generation): boolean {
    return !this.closed && (gen.state === 'active' || gen.state === 'warming');
  }

  /** Opens a page, or counts the failure and resolves undefined; a browser that keeps failing is given up. */
  private async openPage(gen: Generation): Promise<RenderPage | undefined> {
    try {
      const page = await this.newPage(gen.browser);
      gen.pageFailures = 0;
      return page;
    } catch (err) {
      if (!this.usable(gen)) return undefined;
      gen.pageFailures++;
      this.log('warn', 'could not open a render page', { error: String(err), attempt: gen.pageFailures, browser: gen.id });
      if (gen.pageFailures >= PAGE_CREATE_ATTEMPTS) {
        // A browser that cannot open pages is as good as crashed.
        this.lose(gen, 'cannot open pages');
        gen.browser.kill();
      }
      return undefined;
    }
  }

  // ---- browsers ---------------------------------------------------------------------------

  private async launchGeneration(): Promise<Generation> {
    const browser = await this.launchBrowser({ executablePath: this.o.executablePath });
    const gen: Generation = {
      id: this.nextGenerationId++,
      browser,
      state: 'warming',
      slots: new Set(),
      idle: [],
      running: new Set(),
      creating: 0,
      pageFailures: 0,
      dispatched: 0,
    };
    this.generations.add(gen);
    browser.onDisconnected(() => this.lose(gen, 'disconnected'));
    try {
      const pages = await Promise.all(
        Array.from({ length: this.pageCount }, () => this.newPage(browser)),
      );
      for (const page of pages) {
        const slot: Slot = { page, jobs: 0, gen, renewing: false };
        gen.slots.add(slot);
        gen.idle.push(slot);
      }
    } catch (err) {
      await this.closeGeneration(gen);
      throw err;
    }
    if (gen.state === 'dead') throw new RenderCrashedError('Chromium died while warming up');
    this.log('info', 'Chromium ready', { browser: gen.id, pid: browser.pid(), pages: this.pageCount });
    return gen;
  }

  private activate(gen: Generation): void {
    const previous = this.current;
    gen.state = 'active';
    this.current = gen;
    if (previous && previous.state === 'active') {
      previous.state = 'retiring';
      for (const slot of previous.idle.splice(0)) this.dropSlot(slot);
      this.retireIfDrained(previous);
    }
    this.pump();
  }

  private retireIfDrained(gen: Generation): void {
    if (gen.state !== 'retiring' || gen.running.size > 0) return;
    void this.closeGeneration(gen);
  }

  /** Graceful restart after maxJobsPerBrowser: the old browser serves until the new one is warm. */
  private planRestart(gen: Generation): void {
    if (this.closed || this.launching || gen !== this.current || Date.now() < this.plannedRestartNotBefore) return;
    this.log('info', 'restarting Chromium after its job quota', { browser: gen.id, jobs: gen.dispatched });
    this.relaunch(false);
  }

  /** The browser died (or is given up on): fail its jobs, relaunch, queued jobs wait for the new one. */
  private lose(gen: Generation, reason: string): void {
    if (gen.state === 'dead') return;
    const wasServing = gen.state === 'active';
    gen.state = 'dead';
    this.generations.delete(gen);
    for (const job of [...gen.running]) this.settle(job, new RenderCrashedError(`Chromium ${reason} during the render`));
    gen.idle.length = 0;
    gen.slots.clear();
    if (!wasServing || this.closed) return;
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
        if (this.closed) return this.closeGeneration(gen);
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
          this.settle(job, new RenderCrashedError('Chromium is unavailable', { cause: err }));
        }
        this.later(delay, () => this.relaunch(true));
      },
    );
  }

  private async closeGeneration(gen: Generation): Promise<void> {
    gen.state = 'dead';
    this.generations.delete(gen);
    for (const job of [...gen.running]) this.settle(job, new RenderPoolClosedError('RenderPool closed'));
    gen.slots.clear();
    gen.idle.length = 0;
    try {
      await this.withTimeout(gen.browser.close(), CLOSE_GRACE_MS, 'browser.close');
    } catch (err) {
      this.log('warn', 'Chromium did not close in time; killing it', { error: String(err), browser: gen.id });
      gen.browser.kill();
    }
  }

  // ---- timers -----------------------------------------------------------------------------

  /** A page that arrives after its deadline is closed, not leaked. */
  private newPage(browser: RenderBrowser): Promise<RenderPage> {
    const p = browser.newPage();
    return this.withTimeout(p, Math.max(PAGE_OPEN_TIMEOUT_MS, this.jobTimeoutMs), 'newPage').catch((err: unknown) => {
      if (err instanceof RenderTimeoutError) {
        p.then((late) => late.close()).catch(() => undefined);
      }
      throw err;
    });
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RenderTimeoutError(`${what} timed out after ${ms} ms`)), ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
