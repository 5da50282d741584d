import type { DocumentsConfig } from '../config';
import type { DocumentsRepository } from '../documents/documents.repository';
import { RenderDependencyUnavailableError, type DocumentRendererService, type RenderJob } from './document-renderer.service';
import type { RenderMetrics } from './render-metrics';
import type { RenderPoolHost } from './render-pool.provider';
import { RENDER_MAX_ATTEMPTS, RenderQueue } from './render-queue';

const job = (n: number, revision = 1): RenderJob => ({ accountId: 'acc-1', documentId: `doc-${n}`, revision });

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe(RenderQueue.name, () => {
  /** Renders in flight, in call order, each settled by the test. */
  let calls: { job: RenderJob; lastAttempt: boolean; done: ReturnType<typeof deferred<'rendered'>>; settled: boolean }[];
  let stale: { id: string; accountId: string; revision: number }[];
  let claimStalePending: jest.Mock;
  let queue: RenderQueue;

  const inFlight = () => calls.filter((c) => !c.settled);
  const make = (over: Partial<DocumentsConfig> = {}) => {
    const renderer = {
      render: jest.fn((j: RenderJob, lastAttempt: boolean) => {
        const done = deferred<'rendered'>();
        const call = { job: j, lastAttempt, done, settled: false };
        done.promise.then(
          () => (call.settled = true),
          () => (call.settled = true),
        );
        calls.push(call);
        return done.promise;
      }),
    };
    claimStalePending = jest.fn(async (_staleMs: number, limit: number) => stale.splice(0, limit));
    const config = { RENDER_PAGES: 2, RENDER_BACKLOG: 6, RENDER_SWEEP_MS: 30_000, RENDER_STALE_MS: 120_000, ...over } as DocumentsConfig;
    queue = new RenderQueue(
      config,
      renderer as unknown as DocumentRendererService,
      { pool: {} } as RenderPoolHost,
      { claimStalePending } as unknown as DocumentsRepository,
      { phase: () => undefined } as unknown as RenderMetrics,
    );
    return renderer;
  };
  // Lets promise callbacks (and the queue's pump) run.
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  beforeEach(() => {
    calls = [];
    stale = [];
    jest.useFakeTimers();
  });

  afterEach(async () => {
    jest.useRealTimers();
    let closed = false;
    const closing = queue.beforeApplicationShutdown().then(() => (closed = true));
    while (!closed) {
      for (const c of calls) c.done.resolve('rendered');
      await new Promise((r) => setTimeout(r, 5));
    }
    await closing;
  });

  it('takes requests at once and renders two per pool page side by side, the rest as those finish', async () => {
    make();
    for (let n = 0; n < 6; n++) await queue.accept(job(n));
    await settle();
    expect(calls.map((c) => c.job.documentId)).toEqual(['doc-0', 'doc-1', 'doc-2', 'doc-3']);
    expect(queue.size).toBe(6);

    calls[1]!.done.resolve('rendered');
    await settle();
    expect(calls.map((c) => c.job.documentId)).toEqual(['doc-0', 'doc-1', 'doc-2', 'doc-3', 'doc-4']);
    expect(queue.size).toBe(5);
  });

  it('holds the consumer while its backlog is full, heartbeating, and takes the request once one finishes', async () => {
    make();
    for (let n = 0; n < 6; n++) await queue.accept(job(n));
    const heartbeat = jest.fn(async () => undefined);
    let accepted = false;
    const seventh = queue.accept(job(6), heartbeat).then(() => (accepted = true));
    await jest.advanceTimersByTimeAsync(4_500);
    expect(accepted).toBe(false);
    expect(heartbeat).toHaveBeenCalledTimes(2);

    calls[0]!.done.resolve('rendered');
    await seventh;
    expect(accepted).toBe(true);
    await settle();
    expect(inFlight().map((c) => c.job.documentId)).toEqual(['doc-1', 'doc-2', 'doc-3', 'doc-4']);
  });

  it('keeps places for requests about to be committed: counted against the backlog, filled or given back', async () => {
    make();
    for (let n = 0; n < 4; n++) await queue.accept(job(n));
    const a = queue.reserve()!;
    const b = queue.reserve()!;
    expect(queue.reserve()).toBeNull(); // 4 held + 2 reserved = the backlog of 6
    let accepted = false;
    const consumer = queue.accept(job(9)).then(() => (accepted = true));
    await settle();
    expect(accepted).toBe(false);

    b.cancel(); // its transaction rolled back: the consumer takes the place
    await consumer;
    a.fill(job(5));
    a.fill(job(6)); // a place takes one request
    await settle();
    expect(queue.size).toBe(6);
    for (const c of calls) c.done.resolve('rendered');
    await settle();
    expect(calls.map((c) => c.job.documentId).sort()).toEqual(['doc-0', 'doc-1', 'doc-2', 'doc-3', 'doc-5', 'doc-9']);
  });

  it('reserves nothing once shutting down, and a place filled meanwhile leaves its document to a sweep', async () => {
    make();
    const slot = queue.reserve()!;
    const closing = queue.beforeApplicationShutdown();
    expect(queue.reserve()).toBeNull();
    slot.fill(job(1));
    await closing;
    expect(calls).toEqual([]);
  });

  it('does not take the same request twice (a redelivery, or a sweep that found it first)', async () => {
    make();
    await queue.accept(job(1));
    await queue.accept(job(1));
    await queue.accept(job(1, 2)); // a newer revision is another request
    await settle();
    expect(calls.map((c) => [c.job.documentId, c.job.revision])).toEqual([
      ['doc-1', 1],
      ['doc-1', 2],
    ]);
  });

  it(`retries a failed render after its back-off, the ${RENDER_MAX_ATTEMPTS}th attempt as the last one`, async () => {
    make();
    await queue.accept(job(1));
    await settle();
    for (let attempt = 1; attempt < RENDER_MAX_ATTEMPTS; attempt++) {
      expect(calls).toHaveLength(attempt);
      expect(calls[attempt - 1]!.lastAttempt).toBe(false);
      calls[attempt - 1]!.done.reject(new Error('Chromium disconnected'));
      await settle();
      expect(calls).toHaveLength(attempt); // waiting out the back-off
      await jest.advanceTimersByTimeAsync(15_000);
    }
    expect(calls).toHaveLength(RENDER_MAX_ATTEMPTS);
    expect(calls[RENDER_MAX_ATTEMPTS - 1]!.lastAttempt).toBe(true);
    calls[RENDER_MAX_ATTEMPTS - 1]!.done.resolve('rendered');
    await settle();
    expect(queue.size).toBe(0);
  });

  it('tries again through a storage or database outage for as long as it lasts, without spending an attempt', async () => {
    make();
    await queue.accept(job(1));
    await settle();
    for (let i = 0; i < 8; i++) {
      calls[i]!.done.reject(i % 2 ? Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) : new RenderDependencyUnavailableError('storage down'));
      await settle();
      await jest.advanceTimersByTimeAsync(15_000);
    }
    expect(calls).toHaveLength(9);
    expect(calls.every((c) => !c.lastAttempt)).toBe(true);
    expect(queue.size).toBe(1);
  });

  it('renders the documents a sweep finds left pending, as many as there is room for, and not those it holds', async () => {
    make();
    await queue.accept(job(1));
    stale = [
      { id: 'doc-1', accountId: 'acc-1', revision: 1 },
      { id: 'doc-7', accountId: 'acc-2', revision: 3 },
    ];
    expect(await queue.sweep()).toBe(1);
    expect(claimStalePending).toHaveBeenCalledWith(120_000, 5);
    await settle();
    expect(calls.map((c) => c.job)).toEqual([job(1), { accountId: 'acc-2', documentId: 'doc-7', revision: 3 }]);
  });

  it('on shutdown waits for the renders in flight, and leaves what it never started to a sweep', async () => {
    make({ RENDER_CONCURRENCY: 1 });
    await queue.accept(job(1));
    await queue.accept(job(2));
    await settle();
    let closed = false;
    const closing = queue.beforeApplicationShutdown().then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(100);
    expect(closed).toBe(false);
    calls[0]!.done.resolve('rendered');
    await jest.advanceTimersByTimeAsync(100);
    // The second one still runs within the drain.
    expect(calls.map((c) => c.job.documentId)).toEqual(['doc-1', 'doc-2']);
    calls[1]!.done.resolve('rendered');
    await jest.advanceTimersByTimeAsync(100);
    await closing;
    expect(closed).toBe(true);
    await queue.accept(job(3)); // after shutdown: left pending in the database
    expect(calls).toHaveLength(2);
  });
});
