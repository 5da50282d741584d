import type { Commands } from '@papka/messaging';
import { RenderBrowserUnavailableError, RenderCrashedError } from '@papka/render-pool';
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
  /** The RenderRequested events the queue wrote to the outbox, per transaction. */
  let handedBack: { documentId: string; revision: number; accountId: string }[][];
  let outboxDown: boolean;
  /** What the fake pool's available() answers: false while Chromium is down and not relaunching. */
  let browserUp: boolean;

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
    const config = { RENDER_PAGES: 2, RENDER_BACKLOG: 6, RENDER_SWEEP_MS: 30_000, RENDER_STALE_MS: 120_000, RENDER_DRAIN_MS: 10_000, ...over } as DocumentsConfig;
    queue = new RenderQueue(
      config,
      renderer as unknown as DocumentRendererService,
      { pool: { available: () => browserUp } } as unknown as RenderPoolHost,
      { claimStalePending } as unknown as DocumentsRepository,
      { phase: () => undefined } as unknown as RenderMetrics,
      {
        run: async (_account: string, fn: (t: unknown) => Promise<unknown>) => {
          if (outboxDown) throw new Error('connect ECONNREFUSED');
          const written: (typeof handedBack)[number] = [];
          const t = {
            emitMany: async (_event: unknown, events: { accountId: string; data: { documentId: string; revision: number } }[]) => {
              for (const e of events) written.push({ ...e.data, accountId: e.accountId });
            },
          };
          const result = await fn(t);
          handedBack.push(written);
          return result;
        },
      } as unknown as Commands,
    );
    return renderer;
  };
  /** Nest's two shutdown hooks, in order (the consumers and HTTP server close between them). */
  const shutdown = async (between: () => Promise<void> = async () => undefined) => {
    await queue.beforeApplicationShutdown();
    await between();
    await queue.onApplicationShutdown();
  };
  // Lets promise callbacks (and the queue's pump) run.
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  beforeEach(() => {
    calls = [];
    stale = [];
    handedBack = [];
    outboxDown = false;
    browserUp = true;
    jest.useFakeTimers();
  });

  afterEach(async () => {
    jest.useRealTimers();
    let closed = false;
    const closing = shutdown().then(() => (closed = true));
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

  it('reserves nothing once shutting down, and a place filled meanwhile is handed back to the bus', async () => {
    make();
    const slot = queue.reserve()!;
    const closing = shutdown();
    expect(queue.reserve()).toBeNull();
    slot.fill(job(1));
    await closing;
    expect(calls).toEqual([]);
    expect(handedBack).toEqual([[{ accountId: 'acc-1', documentId: 'doc-1', revision: 1 }]]);
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

  it('tries again while Chromium is down (no browser, its relaunch failing) for as long as it lasts, without spending an attempt', async () => {
    make();
    await queue.accept(job(1));
    await settle();
    // Longer than every attempt's back-off together: the outage is not the document's doing.
    for (let i = 0; i < 2 * RENDER_MAX_ATTEMPTS; i++) {
      calls[i]!.done.reject(new RenderBrowserUnavailableError('Chromium is unavailable; relaunch pending'));
      await settle();
      await jest.advanceTimersByTimeAsync(15_000);
    }
    expect(calls).toHaveLength(2 * RENDER_MAX_ATTEMPTS + 1);
    expect(calls.every((c) => !c.lastAttempt)).toBe(true);
    calls.at(-1)!.done.resolve('rendered');
    await settle();
    expect(queue.size).toBe(0);
  });

  it('still counts a crash met while the document rendered, between outages: one that kills Chromium every time ends failed', async () => {
    make();
    await queue.accept(job(1));
    await settle();
    const crash = () => new RenderCrashedError('The page crashed');
    const down = () => new RenderBrowserUnavailableError('Chromium is unavailable');
    const errors = [crash(), down(), down(), crash(), down(), crash()];
    for (const [i, err] of errors.entries()) {
      calls[i]!.done.reject(err);
      await settle();
      await jest.advanceTimersByTimeAsync(15_000);
    }
    // Three crashes counted, the outages not: the next attempt is the last, and it records the failure.
    expect(calls).toHaveLength(errors.length + 1);
    expect(calls.map((c) => c.lastAttempt)).toEqual([...errors.map(() => false), true]);
    calls.at(-1)!.done.resolve('rendered');
    await settle();
    expect(queue.size).toBe(0);
  });

  it('reserves no place while Chromium is down, so the constructor sends its request through the bus, and reserves again once it is back', async () => {
    make();
    browserUp = false;
    expect(queue.reserve()).toBeNull();
    browserUp = true;
    const slot = queue.reserve();
    expect(slot).not.toBeNull();
    slot!.fill(job(1));
    await settle();
    expect(calls.map((c) => c.job.documentId)).toEqual(['doc-1']);
  });

  it('holds the consumer while Chromium is down, heartbeating, and takes the request once the browser is back', async () => {
    make();
    browserUp = false;
    const heartbeat = jest.fn(async () => undefined);
    let accepted = false;
    const taking = queue.accept(job(1), heartbeat).then(() => (accepted = true));
    await jest.advanceTimersByTimeAsync(4_500);
    expect(accepted).toBe(false);
    expect(heartbeat).toHaveBeenCalledTimes(2);
    expect(calls).toEqual([]);
    expect(queue.size).toBe(0);

    browserUp = true;
    await jest.advanceTimersByTimeAsync(2_000);
    await taking;
    expect(accepted).toBe(true);
    await settle();
    expect(calls.map((c) => c.job.documentId)).toEqual(['doc-1']);
  });

  it('hands a request the consumer holds for the browser back to the bus on shutdown', async () => {
    make();
    browserUp = false;
    const taking = queue.accept(job(1), async () => undefined);
    await jest.advanceTimersByTimeAsync(2_500);
    await shutdown(() => taking);
    expect(calls).toEqual([]);
    expect(handedBack).toEqual([[{ accountId: 'acc-1', documentId: 'doc-1', revision: 1 }]]);
  });

  it('claims no document left pending while Chromium is down', async () => {
    make();
    browserUp = false;
    stale = [{ id: 'doc-7', accountId: 'acc-2', revision: 3 }];
    expect(await queue.sweep()).toBe(0);
    expect(claimStalePending).not.toHaveBeenCalled();
    browserUp = true;
    expect(await queue.sweep()).toBe(1);
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

  it('on shutdown waits for the renders in flight, starts what it holds within the drain, and hands back the rest', async () => {
    make({ RENDER_CONCURRENCY: 1 });
    await queue.accept(job(1));
    await queue.accept(job(2));
    await queue.accept(job(3));
    await settle();
    let closed = false;
    const closing = shutdown(async () => {
      // Between the hooks (the consumers closing) nothing is handed back yet.
      expect(handedBack).toEqual([]);
    }).then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(100);
    expect(closed).toBe(false);
    calls[0]!.done.resolve('rendered');
    await jest.advanceTimersByTimeAsync(100);
    // The second one still starts within the drain.
    expect(calls.map((c) => c.job.documentId)).toEqual(['doc-1', 'doc-2']);
    // It outlasts the drain: waited for, and the third is not started after it.
    await jest.advanceTimersByTimeAsync(11_000);
    expect(closed).toBe(false);
    calls[1]!.done.resolve('rendered');
    await jest.advanceTimersByTimeAsync(100);
    await closing;
    expect(closed).toBe(true);
    expect(calls.map((c) => c.job.documentId)).toEqual(['doc-1', 'doc-2']);
    expect(handedBack).toEqual([[{ accountId: 'acc-1', documentId: 'doc-3', revision: 1 }]]);
    // After shutdown a request from the consumer goes straight back, written before accept() answers.
    await queue.accept(job(4));
    expect(calls).toHaveLength(2);
    expect(handedBack[1]).toEqual([{ accountId: 'acc-1', documentId: 'doc-4', revision: 1 }]);
  });

  it('hands back, on shutdown, a request backing off after a failure and one that came in meanwhile, each once', async () => {
    make({ RENDER_CONCURRENCY: 1 });
    await queue.accept({ ...job(1), accountId: 'acc-2' });
    await settle();
    calls[0]!.done.reject(new Error('page crashed'));
    await settle();
    // doc-1 waits for its retry (1 s); the queue closes meanwhile, and the consumer still delivers.
    const closing = shutdown(async () => {
      await queue.accept(job(2));
      await queue.accept(job(2)); // a redelivery while closing
      await jest.advanceTimersByTimeAsync(2_000);
    });
    await closing;
    expect(calls).toHaveLength(1);
    expect(handedBack).toHaveLength(1);
    expect(handedBack[0]!.sort((a, b) => a.documentId.localeCompare(b.documentId))).toEqual([
      { accountId: 'acc-2', documentId: 'doc-1', revision: 1 },
      { accountId: 'acc-1', documentId: 'doc-2', revision: 1 },
    ]);
  });

  it('leaves the requests to a sweep when handing them back fails (the database down), and still closes', async () => {
    make({ RENDER_CONCURRENCY: 1 });
    outboxDown = true;
    await shutdown(() => queue.accept(job(1)));
    expect(handedBack).toEqual([]);
    expect(calls).toEqual([]);
  });
});
