import { RenderBrowserUnavailableError, RenderCrashedError, RenderPoolClosedError, RenderQueueFullError, RenderTimeoutError } from './errors';
import type { RenderBrowser, RenderPage } from './render-browser';
import { RenderPool, type RenderPoolOptions } from './render-pool';

/**
 * A fake browser: `hang...` HTML never finishes (until its page closes or the browser dies),
 * `fail...` rejects, anything else resolves on the next macrotask with a PDF-ish buffer.
 */
class FakePage implements RenderPage {
  closed = false;
  readonly rendered: string[] = [];
  private readonly pending = new Set<(err: Error) => void>();

  constructor(private readonly browser: FakeBrowser) {}

  render(html: string): Promise<Uint8Array> {
    if (this.closed || !this.browser.isConnected) return Promise.reject(new Error('Target closed'));
    this.rendered.push(html);
    this.browser.renders.push(html);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.add(reject);
      if (html.startsWith('hang')) return;
      setImmediate(() => {
        this.pending.delete(reject);
        if (html.startsWith('fail')) reject(new Error('boom'));
        else resolve(new TextEncoder().encode(`%PDF-${html}`));
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort();
  }

  abort(): void {
    for (const reject of this.pending) reject(new Error('Target closed'));
    this.pending.clear();
  }
}

class FakeBrowser implements RenderBrowser {
  isConnected = true;
  closed = false;
  failNewPage = false;
  newPageDelayMs = 0;
  readonly pages: FakePage[] = [];
  readonly renders: string[] = [];
  private listener: (() => void) | undefined;

  constructor(readonly id: number) {}

  async newPage(): Promise<RenderPage> {
    if (this.newPageDelayMs > 0) await new Promise((r) => setTimeout(r, this.newPageDelayMs));
    if (this.failNewPage || !this.isConnected) throw new Error('cannot open page');
    const page = new FakePage(this);
    this.pages.push(page);
    return page;
  }
  async version(): Promise<string> {
    return 'Fake/1';
  }
  connected(): boolean {
    return this.isConnected;
  }
  onDisconnected(listener: () => void): void {
    this.listener = listener;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.die();
  }
  kill(): void {
    this.die();
  }
  pid(): number {
    return 1000 + this.id;
  }
  /** What a SIGKILL looks like from node: the connection drops, then calls fail. */
  die(): void {
    if (!this.isConnected) return;
    this.isConnected = false;
    const l = this.listener;
    this.listener = undefined;
    l?.();
    for (const p of this.pages) p.abort();
  }
}

function fakeLauncher() {
  const browsers: FakeBrowser[] = [];
  let failLaunch = false;
  return {
    browsers,
    failNextLaunches(v: boolean) {
      failLaunch = v;
    },
    launch: async () => {
      if (failLaunch) throw new Error('launch failed');
      const b = new FakeBrowser(browsers.length + 1);
      browsers.push(b);
      return b;
    },
  };
}

const settleAll = <T>(ps: Promise<T>[]) => Promise.allSettled(ps);
const reasons = (rs: PromiseSettledResult<unknown>[]) =>
  rs.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name));
const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls `cond` until it holds, or fails the test after `ms`. */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(10);
  }
}

describe(RenderPool.name, () => {
  let pool: RenderPool;
  let fake: ReturnType<typeof fakeLauncher>;

  async function startPool(o: Partial<RenderPoolOptions> = {}) {
    fake = fakeLauncher();
    pool = new RenderPool({ executablePath: '/none', pages: 2, launch: fake.launch, ...o });
    await pool.start();
    return pool;
  }

  afterEach(async () => {
    await pool?.close();
  });

  it('renders on warm pages and reuses them', async () => {
    await startPool({ pages: 2 });
    const pdfs = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.render(`doc ${i}`)));
    expect(pdfs.map((b) => b.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `%PDF-doc ${i}`));
    expect(fake.browsers).toHaveLength(1);
    expect(fake.browsers[0].pages).toHaveLength(2);
    expect(pool.stats()).toEqual({ pages: 2, idle: 2, queued: 0, jobs: 10, browserRestarts: 0, pageRecycles: 0 });
  });

  it('serves queued jobs first in, first out', async () => {
    await startPool({ pages: 1 });
    await Promise.all(['a', 'b', 'c', 'd'].map((h) => pool.render(h)));
    expect(fake.browsers[0].renders).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects at once with RenderQueueFullError when the queue is full', async () => {
    await startPool({ pages: 1, queueLimit: 2 });
    const ps = Array.from({ length: 6 }, (_, i) => pool.render(`doc ${i}`));
    expect(pool.stats().queued).toBe(2);
    // The overflow is already rejected before the first render has had a chance to finish.
    const early = await Promise.race([settleAll(ps.slice(3)), tick().then(() => 'late')]);
    expect(early).not.toBe('late');
    expect(reasons(await settleAll(ps))).toEqual(['ok', 'ok', 'ok', 'RenderQueueFullError', 'RenderQueueFullError', 'RenderQueueFullError']);
  });

  it('times a job out, discards its page and keeps serving on a replacement', async () => {
    await startPool({ pages: 1, jobTimeoutMs: 30 });
    const err = await pool.render('hang').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderTimeoutError);
    expect(fake.browsers[0].pages[0].closed).toBe(true);
    await expect(pool.render('after')).resolves.toEqual(Buffer.from('%PDF-after'));
    expect(fake.browsers[0].pages).toHaveLength(2);
    expect(pool.stats()).toMatchObject({ pages: 1, pageRecycles: 1, jobs: 2 });
  });

  it('takes a per-job timeout', async () => {
    await startPool({ pages: 1, jobTimeoutMs: 60_000 });
    await expect(pool.render('hang', { timeoutMs: 10 })).rejects.toBeInstanceOf(RenderTimeoutError);
  });

  it('recycles the page a job failed on', async () => {
    await startPool({ pages: 1 });
    await expect(pool.render('fail')).rejects.toThrow('boom');
    expect(fake.browsers[0].pages[0].closed).toBe(true);
    await expect(pool.render('ok')).resolves.toBeInstanceOf(Buffer);
    expect(pool.stats().pageRecycles).toBe(1);
  });

  it('recycles a page after maxJobsPerPage jobs', async () => {
    await startPool({ pages: 1, maxJobsPerPage: 3 });
    for (let i = 0; i < 10; i++) {
      await pool.render(`doc ${i}`);
      await sleep(2); // time for a replacement to open
    }
    const pages = fake.browsers[0].pages;
    expect(pages.map((p) => p.rendered.length)).toEqual([3, 3, 3, 1]);
    expect(pages.map((p) => p.closed)).toEqual([true, true, true, false]);
    expect(pool.stats()).toMatchObject({ pages: 1, pageRecycles: 3 });
  });

  it('keeps a page past its quota serving until its replacement is open, so no job waits', async () => {
    await startPool({ pages: 1, maxJobsPerPage: 3 });
    fake.browsers[0].newPageDelayMs = 50;
    for (let i = 0; i < 10; i++) await pool.render(`doc ${i}`);
    const [first] = fake.browsers[0].pages;
    expect(first.rendered).toHaveLength(10);
    expect(first.closed).toBe(false);
    await sleep(80);
    expect(first.closed).toBe(true);
    expect(fake.browsers[0].pages).toHaveLength(2);
    expect(pool.stats()).toMatchObject({ pages: 1, idle: 1, pageRecycles: 1 });
  });

  it('prefers a fresh page to one past its quota', async () => {
    await startPool({ pages: 2, maxJobsPerPage: 2 });
    fake.browsers[0].newPageDelayMs = 50;
    for (const html of ['1', '2', '3']) await pool.render(html);
    // Idle pages are taken last-in first: without the preference the third job would land on
    // the page that just used up its quota.
    expect(fake.browsers[0].pages.map((p) => p.rendered.length).sort()).toEqual([1, 2]);
    await sleep(80);
    expect(pool.stats()).toMatchObject({ pages: 2, idle: 2, pageRecycles: 1 });
  });

  it('fails in-flight jobs with RenderCrashedError on a crash, relaunches, and serves the queue', async () => {
    await startPool({ pages: 2 });
    const inflight = [pool.render('hang 1'), pool.render('hang 2')];
    const queued = [pool.render('q1'), pool.render('q2')];
    await tick();
    fake.browsers[0].die();
    expect(reasons(await settleAll(inflight))).toEqual(['RenderCrashedError', 'RenderCrashedError']);
    expect(reasons(await settleAll(queued))).toEqual(['ok', 'ok']);
    expect(fake.browsers).toHaveLength(2);
    expect(fake.browsers[1].renders).toEqual(['q1', 'q2']);
    expect(pool.stats()).toMatchObject({ pages: 2, browserRestarts: 1 });
    expect(pool.browserPid()).toBe(1002);
  });

  it('rejects queued jobs when Chromium cannot be relaunched, and fails fast until it can', async () => {
    await startPool({ pages: 1 });
    const both = settleAll([pool.render('hang'), pool.render('q')]);
    await tick();
    fake.failNextLaunches(true);
    fake.browsers[0].die();
    const [inflight, queued] = await both;
    expect(inflight.status === 'rejected' && inflight.reason).toBeInstanceOf(RenderCrashedError);
    expect(queued.status === 'rejected' && queued.reason).toBeInstanceOf(RenderCrashedError);
    // The job Chromium died under crashed; the one waiting for the relaunch found no browser.
    expect(inflight.status === 'rejected' && inflight.reason).not.toBeInstanceOf(RenderBrowserUnavailableError);
    expect(queued.status === 'rejected' && queued.reason).toBeInstanceOf(RenderBrowserUnavailableError);
    await expect(pool.render('now')).rejects.toThrow(/unavailable/);
    await expect(pool.ping()).resolves.toBe(false);
  });

  it('says it is unavailable while Chromium cannot be relaunched, rejecting with RenderBrowserUnavailableError, and available once it is back', async () => {
    fake = fakeLauncher();
    pool = new RenderPool({ executablePath: '/none', pages: 1, launch: fake.launch });
    expect(pool.available()).toBe(false); // not started
    const starting = pool.start();
    expect(pool.available()).toBe(true); // the first browser on its way: jobs wait for it
    await starting;
    expect(pool.available()).toBe(true);

    fake.failNextLaunches(true);
    fake.browsers[0].die();
    expect(pool.available()).toBe(true); // the relaunch right after a crash has not failed yet
    await until(() => !pool.available());
    const err = await pool.render('now').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderBrowserUnavailableError);
    expect(err).toBeInstanceOf(RenderCrashedError); // callers that treat every crash alike still do
    expect((err as Error).name).toBe('RenderBrowserUnavailableError');

    fake.failNextLaunches(false);
    await until(() => pool.available()); // the next relaunch (1 s later) succeeds
    await expect(pool.render('back')).resolves.toEqual(Buffer.from('%PDF-back'));
    await pool.close();
    expect(pool.available()).toBe(false);
  });

  it('gives a browser that cannot open pages up for a new one', async () => {
    await startPool({ pages: 1 });
    fake.browsers[0].failNewPage = true;
    await expect(pool.render('fail')).rejects.toThrow('boom');
    // Three failed attempts at 100 and 200 ms apart, then a relaunch.
    await expect(pool.render('next')).resolves.toBeInstanceOf(Buffer);
    expect(fake.browsers).toHaveLength(2);
    expect(fake.browsers[0].isConnected).toBe(false);
  });

  it('restarts the browser after maxJobsPerBrowser jobs without failing any', async () => {
    await startPool({ pages: 1, maxJobsPerBrowser: 5 });
    for (let i = 0; i < 12; i++) await pool.render(`doc ${i}`);
    await tick();
    expect(fake.browsers.length).toBeGreaterThanOrEqual(2);
    expect(fake.browsers.slice(0, -1).every((b) => b.closed)).toBe(true);
    expect(fake.browsers.at(-1)?.closed).toBe(false);
    expect(pool.stats().browserRestarts).toBe(fake.browsers.length - 1);
    expect(fake.browsers.reduce((n, b) => n + b.renders.length, 0)).toBe(12);
  });

  it('close() rejects queued jobs, lets running ones finish and closes the browser', async () => {
    await startPool({ pages: 1 });
    const running = pool.render('running');
    const queued = pool.render('queued').catch((e: unknown) => e);
    await pool.close();
    await expect(running).resolves.toEqual(Buffer.from('%PDF-running'));
    expect(await queued).toBeInstanceOf(RenderPoolClosedError);
    await expect(pool.render('late')).rejects.toBeInstanceOf(RenderPoolClosedError);
    expect(fake.browsers[0].closed).toBe(true);
    await expect(pool.ping()).resolves.toBe(false);
  });

  it('answers ping while the browser is up', async () => {
    await startPool();
    await expect(pool.ping()).resolves.toBe(true);
    fake.failNextLaunches(true);
    fake.browsers[0].die();
    await expect(pool.ping()).resolves.toBe(false);
  });

  it('queues work submitted while starting, and fails it if the start fails', async () => {
    fake = fakeLauncher();
    pool = new RenderPool({ executablePath: '/none', pages: 1, launch: fake.launch });
    const starting = pool.start();
    const early = pool.render('early');
    await starting;
    await expect(early).resolves.toEqual(Buffer.from('%PDF-early'));
    await pool.close();

    fake.failNextLaunches(true);
    pool = new RenderPool({ executablePath: '/none', pages: 1, launch: fake.launch });
    const failing = pool.start().catch((e: unknown) => e);
    const doomed = pool.render('doomed').catch((e: unknown) => e);
    expect(await failing).toEqual(new Error('launch failed'));
    expect(await doomed).toBeInstanceOf(RenderBrowserUnavailableError);
    expect(pool.available()).toBe(false);
    fake.failNextLaunches(false);
    await pool.start();
    await expect(pool.render('retried')).resolves.toBeInstanceOf(Buffer);
  });

  it('refuses work before start()', async () => {
    fake = fakeLauncher();
    pool = new RenderPool({ executablePath: '/none', launch: fake.launch });
    await expect(pool.render('x')).rejects.toThrow(/not started/);
    expect(new RenderQueueFullError('x')).toBeInstanceOf(Error);
  });
});
