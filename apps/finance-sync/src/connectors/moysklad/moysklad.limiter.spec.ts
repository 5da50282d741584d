import { LimiterBlocked, MoyskladLimiter, TOKEN_LIMITS, limiterFor, type LimitSignals } from './moysklad.limiter';

/**
 * A simulated MoySklad on jest's clock: each call arrives somewhere between its send and its
 * answer (the adversarial case for a window counted at arrival), is answered after `latency`,
 * and answers what `answer` says.
 */
async function simulate(
  limiter: MoyskladLimiter,
  n: number,
  o: { latency: (i: number) => number; answer?: (i: number, at: number) => LimitSignals; arrival?: (i: number) => number },
): Promise<{ arrivals: number[]; maxInFlight: number; answers: LimitSignals[]; elapsed: number }> {
  const start = Date.now();
  const arrivals: number[] = [];
  const answers: LimitSignals[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let settled = 0;
  for (let i = 0; i < n; i++) {
    void (async () => {
      const permit = await limiter.acquire(Number.POSITIVE_INFINITY);
      const latency = o.latency(i);
      arrivals.push(Date.now() + Math.min(latency, o.arrival?.(i) ?? latency));
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, latency));
      inFlight -= 1;
      const a = o.answer?.(i, Date.now()) ?? { status: 200 };
      answers.push(a);
      permit.done(a);
      settled += 1;
    })();
  }
  // From timer to timer (not in fixed steps): minutes of MoySklad's time in few turns of the loop.
  while (settled < n) await jest.advanceTimersToNextTimerAsync();
  return { arrivals: arrivals.sort((a, b) => a - b), maxInFlight, answers, elapsed: Date.now() - start };
}

/** The most arrivals inside any window of `windowMs` (MoySklad's count). */
function maxPerWindow(arrivals: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < arrivals.length; i++) {
    while (arrivals[j]! <= arrivals[i]! - windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('MoyskladLimiter', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('never lets MoySklad count more than the window, nor more than 5 in parallel, whatever the latency', async () => {
    const limiter = new MoyskladLimiter({ ...TOKEN_LIMITS.user });
    const latencies = [5, 900, 40, 2_500, 120, 15, 3_100, 60];
    const run = await simulate(limiter, 120, { latency: (i) => latencies[i % latencies.length]!, arrival: (i) => (i % 3 === 0 ? 0 : latencies[i % latencies.length]!) });
    expect(maxPerWindow(run.arrivals, 3_000)).toBeLessThanOrEqual(11);
    expect(run.maxInFlight).toBeLessThanOrEqual(5);
  });

  it('uses the solution window fully when answers are quick', async () => {
    const limiter = new MoyskladLimiter({ ...TOKEN_LIMITS.solution });
    const run = await simulate(limiter, 450, { latency: () => 10 });
    expect(maxPerWindow(run.arrivals, 3_000)).toBeLessThanOrEqual(45);
    // 450 calls at 45 per 3 s (+10 ms each) is about 30 s; the limiter wastes little of it.
    expect(run.elapsed).toBeLessThan(32_000);
  });

  it('lowers the parallelism on 1073 and climbs back after answers without one', async () => {
    const limiter = new MoyskladLimiter({ limit: 1_000, windowMs: 3_000, recoverAfter: 3 });
    await simulate(limiter, 1, { latency: () => 10, answer: () => ({ status: 429, code: 1073 }) });
    expect(limiter.parallelism).toBe(4);
    const run = await simulate(limiter, 8, { latency: () => 500 });
    expect(run.maxInFlight).toBeLessThanOrEqual(5);
    expect(limiter.parallelism).toBe(5);
  });

  it('after a 429 waits for X-Lognex-Retry-After, then sends one probe at a time', async () => {
    const limiter = new MoyskladLimiter({ ...TOKEN_LIMITS.solution });
    const first = await limiter.acquire();
    first.done({ status: 429, code: 1049, headers: { 'x-lognex-retry-after': '7000' } });
    expect(limiter.waitMs()).toBe(7_000);
    await expect(limiter.acquire(5_000)).rejects.toBeInstanceOf(LimiterBlocked);
    await jest.advanceTimersByTimeAsync(7_000);
    const probe = await limiter.acquire();
    expect(limiter.waitMs()).toBeGreaterThan(0);
    probe.done({ status: 200 });
    expect(limiter.waitMs()).toBe(0);
  });

  it('makes 200 answers 429 in a minute impossible even when every answer is one', async () => {
    const limiter = new MoyskladLimiter({ ...TOKEN_LIMITS.solution });
    const start = Date.now();
    const run = await simulate(limiter, 80, { latency: () => 5, answer: () => ({ status: 429, code: 1049, headers: { 'x-lognex-retry-after': '1' } }) });
    const firstMinute = run.arrivals.filter((t) => t < start + 60_000).length;
    expect(firstMinute).toBeLessThan(200);
    expect(firstMinute).toBeLessThanOrEqual(61);
  });

  it('keeps 429s far below 200 a minute when they come and go (another client spending the same token)', async () => {
    for (const pattern of [(i: number) => i % 2 === 0, (i: number) => i % 10 >= 5, (i: number) => i % 7 !== 0]) {
      const limiter = new MoyskladLimiter({ ...TOKEN_LIMITS.solution });
      const limited: number[] = [];
      await simulate(limiter, 300, {
        latency: () => 5,
        answer: (i, at) => {
          if (!pattern(i)) return { status: 200 };
          limited.push(at);
          return { status: 429, code: 1049, headers: { 'x-lognex-retry-after': '1' } };
        },
      });
      expect(maxPerWindow(limited, 60_000)).toBeLessThanOrEqual(70);
    }
    // 900 calls through minutes of simulated back-off: ~1 s of CPU here, several on a loaded
    // machine (CI once passed jest's default 5 s). The bound is a hang guard, not a timing.
  }, 30_000);

  it('takes a narrower window from X-RateLimit-Limit, and waits X-Lognex-Reset at X-RateLimit-Remaining 0', async () => {
    const limiter = new MoyskladLimiter({ ...TOKEN_LIMITS.solution });
    const p = await limiter.acquire();
    p.done({ status: 200, headers: { 'x-ratelimit-limit': '11', 'x-lognex-retry-timeinterval': '3000', 'x-ratelimit-remaining': '0', 'x-lognex-reset': '2500' } });
    expect(limiter.waitMs()).toBe(2_500);
    const run = await simulate(limiter, 40, { latency: () => 5 });
    expect(maxPerWindow(run.arrivals, 3_000)).toBeLessThanOrEqual(11);
  });

  it('sends again as soon as X-Lognex-Reset has passed, not a window later', async () => {
    const limiter = new MoyskladLimiter({ ...TOKEN_LIMITS.solution });
    const first = await limiter.acquire();
    first.done({ status: 200, headers: { 'x-ratelimit-remaining': '0', 'x-lognex-reset': '400' } });
    const start = Date.now();
    let sentAt = -1;
    void limiter.acquire().then((p) => {
      sentAt = Date.now() - start;
      p.done({ status: 200, headers: { 'x-ratelimit-remaining': '30' } });
    });
    while (sentAt < 0) await jest.advanceTimersByTimeAsync(25);
    expect(sentAt).toBeGreaterThanOrEqual(400);
    expect(sentAt).toBeLessThan(500);
  });

  it('shares one limiter between connections with the same token and window', () => {
    const a = limiterFor('token-a', TOKEN_LIMITS.user);
    expect(limiterFor('token-a', TOKEN_LIMITS.user)).toBe(a);
    expect(limiterFor('token-b', TOKEN_LIMITS.user)).not.toBe(a);
    expect(limiterFor('token-a', TOKEN_LIMITS.solution).configured).toEqual(TOKEN_LIMITS.solution);
  });
});
