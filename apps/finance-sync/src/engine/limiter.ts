interface Block {
  /** How many 429s in a row: picks the back-off step. */
  step: number;
  until: number;
  /** A probe is out: nobody else calls the method until it comes back. */
  probing: boolean;
}

/**
 * The limiter per connection and method. A 429 blocks that method only, for the next step of
 * the back-off (at least the target's Retry-After); when the step is over exactly one call (the
 * probe) goes out, and the rest wait for its answer: so a blocked method sees at most one call
 * per back-off step, and nothing loops hot. Pure; one per process (replicas each probe on their
 * own, which 002's unknown limits tolerate).
 */
export class MethodLimiter {
  private readonly blocks = new Map<string, Block>();

  constructor(
    private readonly backoffMs: readonly number[],
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a call may go out now; when it is the probe, the method stays closed until `ok`/`limited`. */
  take(key: string): boolean {
    const b = this.blocks.get(key);
    if (!b) return true;
    if (b.probing || this.now() < b.until) return false;
    b.probing = true;
    return true;
  }

  /** The call came back without a 429 (success or another failure): the method is open. */
  ok(key: string): void {
    this.blocks.delete(key);
  }

  /** A call was answered 429: block for the next step. */
  limited(key: string, retryAfterMs?: number): void {
    const b = this.blocks.get(key) ?? { step: 0, until: 0, probing: false };
    const wait = this.backoffMs[Math.min(b.step, this.backoffMs.length - 1)] ?? 1_000;
    b.step += 1;
    b.until = this.now() + Math.max(wait, retryAfterMs ?? 0);
    b.probing = false;
    this.blocks.set(key, b);
  }

  /** A probe that never got an answer (the call failed otherwise): let the next one try. */
  release(key: string): void {
    const b = this.blocks.get(key);
    if (b) b.probing = false;
  }

  /** Milliseconds until the method may be tried again (0 when open). */
  waitMs(key: string): number {
    const b = this.blocks.get(key);
    return b ? Math.max(0, b.until - this.now()) : 0;
  }

  blocked(key: string): boolean {
    const b = this.blocks.get(key);
    return !!b && (b.probing || this.now() < b.until);
  }
}
