/**
 * MoySklad's rate limit, kept on our side so that its 429s (and its ban) never come
 * (finance-targets.md §2, `_restrictions.md`). Pure.
 *
 * - **Window.** At most `limit` requests per `windowMs` per token: 45 per 3 s for a solution
 *   token, 11 per 3 s for a user token (weight 4 from 1 Dec 2026). A request holds its slot from
 *   the moment it is sent until `windowMs` after its answer came back. MoySklad counts arrivals,
 *   and an arrival is never later than our answer, so no window of MoySklad's can see more than
 *   `limit` of ours, whatever the latency.
 * - **Parallel.** At most `maxParallel` (5) in flight. A 429 with code 1073 lowers it by one;
 *   it climbs back by one after `recoverAfter` answers in a row without one.
 * - **Headers.** `X-RateLimit-Limit` / `X-Lognex-Retry-TimeInterval` narrow the window when
 *   MoySklad says it is smaller than configured (a user token set up as a solution one).
 *   `X-RateLimit-Remaining` caps what goes out until the next answer (another client of the same
 *   token may be spending it); at 0, nothing goes out for `X-Lognex-Reset` ms.
 * - **429.** Nothing goes out until `X-Lognex-Retry-After`, and at least the back-off step (1 s,
 *   doubling to 30 s, one step further per 429); then one call at a time, the step falling by one
 *   per answer that is not a 429, until it is back at 0. So a 429 is followed by at least 1 s of
 *   silence, and at most 5 (the parallel ones) come together.
 * - **Budgets.** Whatever the pattern, at most `budget429` (50) answers 429 and `budgetFailures`
 *   (100) failing answers of any kind within any 60 s: when a budget is spent nothing goes out
 *   until its oldest entry is a minute old. With the 5 that may be in flight then, one process
 *   stays below 60 429s and 110 failures a minute: MoySklad's bans at 200 cannot be reached.
 *   The same holds for identical failing requests, since every failure passes through here.
 *
 * One limiter per token and process ({@link limiterFor}): connections sharing a token share it.
 */
import { createHash } from 'node:crypto';

export type TokenKind = 'solution' | 'user';

const MINUTE = 60_000;

export interface WindowLimits {
  limit: number;
  windowMs: number;
}

export const TOKEN_LIMITS: Record<TokenKind, WindowLimits> = {
  solution: { limit: 45, windowMs: 3_000 },
  user: { limit: 11, windowMs: 3_000 },
};

export interface LimiterOptions extends WindowLimits {
  maxParallel?: number;
  /** Back-off steps after a 429 (the last one repeats). */
  backoffMs?: readonly number[];
  /** Answers in a row without a 1073 before the parallelism climbs back by one. */
  recoverAfter?: number;
  /** Most answers 429 within 60 s before nothing goes out (default 50). */
  budget429?: number;
  /** Most failing answers (4xx, 5xx) within 60 s before nothing goes out (default 100). */
  budgetFailures?: number;
  now?: () => number;
}

/** What an answer (or an error answer) said about the limit. */
export interface LimitSignals {
  /** HTTP status; 0 when there was no answer. */
  status: number;
  /** The first error code of the body (1049, 1073, ...). */
  code?: number;
  headers?: Record<string, string | string[] | undefined>;
}

/** A slot taken by {@link MoyskladLimiter.acquire}; `done` must be called once when the call ends. */
export interface Permit {
  done(signals: LimitSignals): void;
}

/** Thrown by acquire when the token is blocked for longer than the caller wants to wait. */
export class LimiterBlocked extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`MoySklad rate limit: blocked for ${retryAfterMs} ms`);
    this.name = 'LimiterBlocked';
  }
}

const header = (h: LimitSignals['headers'], name: string): number | undefined => {
  const v = h?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

export class MoyskladLimiter {
  readonly configured: WindowLimits;
  private limit: number;
  private windowMs: number;
  private readonly maxParallel: number;
  private parallel: number;
  private readonly backoffMs: readonly number[];
  private readonly recoverAfter: number;
  private readonly now: () => number;

  private inFlight = 0;
  /** Answer times of finished calls still inside the window (their slots). */
  private ends: number[] = [];
  private blockedUntil = 0;
  private step = 0;
  /** After a 429: one call at a time until an answer is not a 429. */
  private probing = false;
  /** `X-RateLimit-Remaining` of the last answer, less what was sent since; null when unknown or stale. */
  private remaining: number | null = null;
  private remainingAt = 0;
  private okInRow = 0;
  private readonly budget429: number;
  private readonly budgetFailures: number;
  /** When the answers 429 and the failing answers of the last minute came. */
  private recent429: number[] = [];
  private recentFailures: number[] = [];
  private waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;

  /** Counters for tests and logs. */
  readonly stats = { sent: 0, limited: 0, parallelLimited: 0, maxInFlight: 0 };

  constructor(o: LimiterOptions) {
    this.configured = { limit: o.limit, windowMs: o.windowMs };
    this.limit = o.limit;
    this.windowMs = o.windowMs;
    this.maxParallel = o.maxParallel ?? 5;
    this.parallel = this.maxParallel;
    this.backoffMs = o.backoffMs ?? [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
    this.recoverAfter = o.recoverAfter ?? 20;
    this.budget429 = o.budget429 ?? 50;
    this.budgetFailures = o.budgetFailures ?? 100;
    this.now = o.now ?? Date.now;
  }

  /** The current parallelism (lowered by 1073s). */
  get parallelism(): number {
    return this.parallel;
  }

  /** Milliseconds until a call could go out (0: now). */
  waitMs(): number {
    const now = this.now();
    this.prune(now);
    if (now < this.blockedUntil) return this.blockedUntil - now;
    if (this.recent429.length >= this.budget429) return Math.max(1, this.recent429[0]! + MINUTE - now);
    if (this.recentFailures.length >= this.budgetFailures) return Math.max(1, this.recentFailures[0]! + MINUTE - now);
    if (this.probing && this.inFlight > 0) return this.windowMs;
    if (this.inFlight >= this.parallel) return this.windowMs;
    // What the last answer allowed is spent: wait for the next answer, at most until that one is stale.
    if (this.remaining !== null && this.remaining <= 0) return Math.max(1, this.remainingAt + this.windowMs - now);
    if (this.inFlight + this.ends.length >= this.limit) {
      // The oldest slot frees windowMs after its answer; in-flight ones free later still.
      return this.ends.length > 0 ? Math.max(1, this.ends[0]! + this.windowMs - now) : this.windowMs;
    }
    return 0;
  }

  /**
   * Waits for a slot. A block longer than `maxWaitMs` (a 429's Retry-After) is thrown as
   * LimiterBlocked instead, so a worker is not held for it.
   */
  async acquire(maxWaitMs = 10_000): Promise<Permit> {
    for (;;) {
      const now = this.now();
      const wait = this.waitMs();
      if (wait === 0) return this.take();
      if (wait > maxWaitMs && (this.blockedUntil - now > maxWaitMs || this.recent429.length >= this.budget429 || this.recentFailures.length >= this.budgetFailures)) throw new LimiterBlocked(wait);
      await this.sleep(wait);
    }
  }

  private take(): Permit {
    this.inFlight += 1;
    this.stats.sent += 1;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    if (this.remaining !== null) this.remaining -= 1;
    let finished = false;
    return {
      done: (s) => {
        if (finished) return;
        finished = true;
        this.finish(s);
      },
    };
  }

  private finish(s: LimitSignals): void {
    const now = this.now();
    this.inFlight -= 1;
    this.ends.push(now);
    // What MoySklad says its window is, when it is narrower than ours.
    const limit = header(s.headers, 'x-ratelimit-limit');
    const interval = header(s.headers, 'x-lognex-retry-timeinterval');
    if (limit !== undefined && limit > 0 && limit < this.limit) this.limit = limit;
    if (interval !== undefined && interval > this.windowMs) this.windowMs = interval;
    const remaining = header(s.headers, 'x-ratelimit-remaining');
    if (remaining !== undefined) {
      this.remaining = remaining;
      this.remainingAt = now;
      if (remaining === 0) {
        // Nothing until MoySklad's own slot frees: the block says it, and the 0 is spent with it
        // (else the stale 0 would hold the next call a further window).
        this.blockedUntil = Math.max(this.blockedUntil, now + (header(s.headers, 'x-lognex-reset') || this.windowMs));
        this.remaining = null;
      }
    }
    if (s.status >= 400) this.recentFailures.push(now);
    if (s.status === 429) {
      this.recent429.push(now);
      this.okInRow = 0;
      if (s.code === 1073) {
        this.stats.parallelLimited += 1;
        this.parallel = Math.max(1, this.parallel - 1);
      } else this.stats.limited += 1;
      const wait = Math.max(this.backoffMs[Math.min(this.step, this.backoffMs.length - 1)] ?? 1_000, header(s.headers, 'x-lognex-retry-after') ?? 0);
      this.step += 1;
      this.blockedUntil = Math.max(this.blockedUntil, now + wait);
      this.probing = true;
    } else if (s.status > 0) {
      // The back-off decays one step per answer that is not a 429, one call at a time until it is
      // gone: a 429 that comes back at once meets a longer block, not a burst of 5.
      this.step = Math.max(0, this.step - 1);
      this.probing = this.step > 0;
      this.okInRow += 1;
      if (this.parallel < this.maxParallel && this.okInRow >= this.recoverAfter) {
        this.parallel += 1;
        this.okInRow = 0;
      }
    }
    this.wake();
  }

  private prune(now: number): void {
    while (this.ends.length > 0 && this.ends[0]! <= now - this.windowMs) this.ends.shift();
    while (this.recent429.length > 0 && this.recent429[0]! <= now - MINUTE) this.recent429.shift();
    while (this.recentFailures.length > 0 && this.recentFailures[0]! <= now - MINUTE) this.recentFailures.shift();
    if (this.remaining !== null && now - this.remainingAt > this.windowMs) this.remaining = null;
  }

  /** Resolves after `ms` (at most one window) or as soon as a call ends, whichever is first. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      const at = this.now() + Math.max(1, Math.min(ms, this.windowMs));
      if (this.timer && this.timerAt <= at) return;
      if (this.timer) clearTimeout(this.timer);
      this.timerAt = at;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.wake();
      }, at - this.now());
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (const w of waiters) w();
  }
}

const registry = new Map<string, MoyskladLimiter>();

/**
 * The process's limiter of a token (keyed by its hash, never the token itself). A different
 * window for the same token (its kind changed) replaces it.
 */
export function limiterFor(token: string, limits: WindowLimits, o: Omit<LimiterOptions, keyof WindowLimits> = {}): MoyskladLimiter {
  const key = createHash('sha256').update(token).digest('hex');
  const existing = registry.get(key);
  if (existing && existing.configured.limit === limits.limit && existing.configured.windowMs === limits.windowMs) return existing;
  const created = new MoyskladLimiter({ ...limits, ...o });
  registry.set(key, created);
  return created;
}
