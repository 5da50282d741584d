import { RenderCrashedError, RenderPoolClosedError, RenderTimeoutError } from './errors';
import type { RenderBrowser, RenderPage } from './render-browser';

export type RenderLogLevel = 'error' | 'warn' | 'info' | 'debug';
export type RenderLog = (level: RenderLogLevel, message: string, extra?: Record<string, unknown>) => void;

/** A render() call, from the queue until it settles. */
export interface RenderJob {
  html: string;
  landscape: boolean;
  timeoutMs: number;
  resolve: (pdf: Buffer) => void;
  reject: (err: Error) => void;
  settled: boolean;
  /** The browser it runs on, once it got a page (counts in stats().jobs once settled). */
  gen?: BrowserGeneration;
  timer?: NodeJS.Timeout;
}

/** A warm page and what it is doing. */
export interface Slot {
  page: RenderPage;
  jobs: number;
  job?: RenderJob;
  /** Its replacement is being opened (quota reached); it serves until that is ready. */
  renewing: boolean;
}

/** What a generation needs from the pool that runs it. */
export interface GenerationHost {
  /** Pages a generation keeps open. */
  readonly pages: number;
  readonly maxJobsPerPage: number;
  readonly jobTimeoutMs: number;
  readonly log: RenderLog;
  /** The pool is closed: no page is opened or kept any more. */
  isClosed(): boolean;
  /** Settles a job; the pool counts it and calls {@link BrowserGeneration.settled}. */
  settle(job: RenderJob, result: Buffer | Error): void;
  /** A page became idle: hand it queued jobs. */
  pump(): void;
  /** Runs `fn` after `ms` unless the pool closes first. */
  later(ms: number, fn: () => void): void;
  /** The generation gave its browser up (it cannot open pages). */
  lose(gen: BrowserGeneration, reason: string): void;
  /** The generation is dead; the pool no longer has to close it. */
  forget(gen: BrowserGeneration): void;
  /**
   * A page was replaced, after an error (at once) or its job quota (once its replacement is
   * open: until then the old page keeps serving, so how many jobs it serves past its quota
   * depends on how fast a page opens).
   */
  recycled(): void;
}

const PAGE_CREATE_ATTEMPTS = 3;
/** Opening a page is not a job: a tight job timeout must not starve the pool of pages. */
const PAGE_OPEN_TIMEOUT_MS = 30_000;
const CLOSE_GRACE_MS = 5_000;
const PING_TIMEOUT_MS = 5_000;

/**
 * One browser process, its warm pages and the jobs running on them. It keeps its pages topped
 * up and recycles them; the pool decides which generation takes jobs and when one is replaced.
 */
export class BrowserGeneration {
  /** warming: pages being made; active: takes jobs; retiring: finishes its jobs then closes. */
  state: 'warming' | 'active' | 'retiring' | 'dead' = 'warming';
  /** Jobs dispatched here over its life (the pool restarts the browser after a quota). */
  dispatched = 0;
  /** Pages that count towards the pool size; a replaced page finishing its job is not among them. */
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  /** Jobs dispatched here and not yet settled. */
  private readonly running = new Set<RenderJob>();
  private creating = 0;
  private pageFailures = 0;

  constructor(
    readonly id: number,
    readonly browser: RenderBrowser,
    private readonly host: GenerationHost,
  ) {}

  get pageCount(): number {
    return this.slots.size;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Opens the first pages; rejects if any cannot be opened (the caller closes the generation). */
  async warm(): Promise<void> {
    const pages = await Promise.all(Array.from({ length: this.host.pages }, () => this.newPage()));
    for (const page of pages) {
      const slot: Slot = { page, jobs: 0, renewing: false };
      this.slots.add(slot);
      this.idle.push(slot);
    }
  }

  /** Connected and answering a CDP round trip in time. Never throws. */
  async ping(): Promise<boolean> {
    if (this.state !== 'active' || !this.browser.connected()) return false;
    try {
      await withTimeout(this.browser.version(), PING_TIMEOUT_MS, 'ping');
      return true;
    } catch {
      return false;
    }
  }

  // ---- jobs -------------------------------------------------------------------------------

  /** An idle page; one past its quota is used only when no other is idle. */
  takeIdle(): Slot | undefined {
    return this.idle.pop();
  }

  run(job: RenderJob, slot: Slot): void {
    slot.job = job;
    this.dispatched++;
    job.gen = this;
    this.running.add(job);
    job.timer = setTimeout(() => {
      if (job.settled) return;
      this.host.log('warn', 'render job timed out; discarding its page', { timeoutMs: job.timeoutMs, browser: this.id });
      this.host.settle(job, new RenderTimeoutError(`Render timed out after ${job.timeoutMs} ms`));
      this.discard(slot);
    }, job.timeoutMs);
    // Reused below only by reference: nothing of the job outlives it.
    const html = job.html;
    job.html = '';
    slot.page.render(html, { landscape: job.landscape, timeoutMs: job.timeoutMs }).then(
      (pdf) => this.finish(slot, job, pdf),
      (err: unknown) => this.finish(slot, job, this.classify(err)),
    );
  }

  /** The pool settled one of this generation's jobs. */
  settled(job: RenderJob): void {
    this.running.delete(job);
    this.retireIfDrained();
  }

  private finish(slot: Slot, job: RenderJob, result: Uint8Array | Error): void {
    if (slot.job === job) slot.job = undefined;
    const failed = result instanceof Error;
    const wasPending = !job.settled;
    this.host.settle(job, failed ? result : Buffer.from(result.buffer, result.byteOffset, result.byteLength));
    if (failed && wasPending) this.host.log('warn', 'render job failed; recycling its page', { error: result.message });
    if (!wasPending) {
      // Timed out or crashed: the page is already gone.
    } else if (failed) {
      this.discard(slot);
    } else {
      if (++slot.jobs >= this.host.maxJobsPerPage && this.slots.has(slot)) this.renew(slot);
      this.release(slot);
    }
  }

  private classify(err: unknown): Error {
    if (err instanceof RenderCrashedError) return err;
    // The protocol connection drops before the job's CDP calls are rejected, so a dead browser
    // is already visible here.
    if (this.state === 'dead' || !this.browser.connected()) {
      return new RenderCrashedError('Chromium disconnected during the render', { cause: err });
    }
    if (err instanceof Error && err.name === 'TimeoutError') {
      return new RenderTimeoutError(err.message, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  // ---- pages ------------------------------------------------------------------------------

  private release(slot: Slot): void {
    if (this.state === 'active' && this.slots.has(slot)) {
      // takeIdle() takes from the end: a page past its quota is used only when no other is idle.
      if (slot.renewing) this.idle.unshift(slot);
      else this.idle.push(slot);
      this.host.pump();
    } else {
      // Replaced while it ran, or its browser is going away.
      this.slots.delete(slot);
      slot.page.close().catch(() => undefined);
    }
  }

  /** Error or timeout: the page goes now; a replacement is opened in the background. */
  private discard(slot: Slot): void {
    if (!this.slots.has(slot)) {
      slot.page.close().catch(() => undefined);
      return;
    }
    this.dropSlot(slot);
    this.host.recycled();
    this.replenish();
  }

  private dropSlot(slot: Slot): void {
    this.slots.delete(slot);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    slot.page.close().catch(() => undefined);
  }

  /** Tops the generation up to `pages` after discards. */
  private replenish(): void {
    while (this.usable() && this.slots.size + this.creating < this.host.pages) {
      this.creating++;
      void this.openPage().then((page) => {
        this.creating--;
        if (page) this.addPage(page);
        else if (this.usable()) this.host.later(100 * this.pageFailures, () => this.replenish());
      });
    }
  }

  /**
   * Quota reached: the page keeps serving while its replacement opens, so recycling never makes
   * a job wait for a page to open (~100 ms). Replacements are not counted in `creating`, so a
   * discard meanwhile is topped up on its own.
   */
  private renew(slot: Slot): void {
    if (slot.renewing || !this.usable()) return;
    slot.renewing = true;
    void this.openPage().then((page) => {
      if (!page) {
        slot.renewing = false; // Tried again after the slot's next job.
        return;
      }
      if (this.slots.has(slot)) {
        this.host.recycled();
        if (slot.job) this.slots.delete(slot); // Closed by release() once its job is done.
        else this.dropSlot(slot);
      } else if (this.slots.size + this.creating >= this.host.pages) {
        // The old page was discarded meanwhile and already replaced.
        page.close().catch(() => undefined);
        return;
      }
      this.addPage(page);
    });
  }

  private addPage(page: RenderPage): void {
    if (!this.usable()) {
      page.close().catch(() => undefined);
      return;
    }
    const slot: Slot = { page, jobs: 0, renewing: false };
    this.slots.add(slot);
    this.idle.push(slot);
    this.host.pump();
  }

  private usable(): boolean {
    return !this.host.isClosed() && (this.state === 'active' || this.state === 'warming');
  }

  /** Opens a page, or counts the failure and resolves undefined; a browser that keeps failing is given up. */
  private async openPage(): Promise<RenderPage | undefined> {
    try {
      const page = await this.newPage();
      this.pageFailures = 0;
      return page;
    } catch (err) {
      if (!this.usable()) return undefined;
      this.pageFailures++;
      this.host.log('warn', 'could not open a render page', { error: String(err), attempt: this.pageFailures, browser: this.id });
      if (this.pageFailures >= PAGE_CREATE_ATTEMPTS) {
        // A browser that cannot open pages is as good as crashed.
        this.host.lose(this, 'cannot open pages');
        this.browser.kill();
      }
      return undefined;
    }
  }

  /** A page that arrives after its deadline is closed, not leaked. */
  private newPage(): Promise<RenderPage> {
    const p = this.browser.newPage();
    return withTimeout(p, Math.max(PAGE_OPEN_TIMEOUT_MS, this.host.jobTimeoutMs), 'newPage').catch((err: unknown) => {
      if (err instanceof RenderTimeoutError) {
        p.then((late) => late.close()).catch(() => undefined);
      }
      throw err;
    });
  }

  // ---- end of life ------------------------------------------------------------------------

  /** Another generation took over: finish the running jobs, then close. */
  retire(): void {
    this.state = 'retiring';
    for (const slot of this.idle.splice(0)) this.dropSlot(slot);
    this.retireIfDrained();
  }

  private retireIfDrained(): void {
    if (this.state !== 'retiring' || this.running.size > 0) return;
    void this.close();
  }

  /** The browser is gone: its jobs fail as crashed and its pages are forgotten. False when it already was dead. */
  die(reason: string): boolean {
    if (this.state === 'dead') return false;
    this.state = 'dead';
    this.host.forget(this);
    for (const job of [...this.running]) this.host.settle(job, new RenderCrashedError(`Chromium ${reason} during the render`));
    this.idle.length = 0;
    this.slots.clear();
    return true;
  }

  /** Fails what still runs here as closed, then closes the browser (killing it if it hangs). */
  async close(): Promise<void> {
    this.state = 'dead';
    this.host.forget(this);
    for (const job of [...this.running]) this.host.settle(job, new RenderPoolClosedError('RenderPool closed'));
    this.slots.clear();
    this.idle.length = 0;
    try {
      await withTimeout(this.browser.close(), CLOSE_GRACE_MS, 'browser.close');
    } catch (err) {
      this.host.log('warn', 'Chromium did not close in time; killing it', { error: String(err), browser: this.id });
      this.browser.kill();
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RenderTimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
