import type { AccountContext, TokenVerifier } from '@papka/auth';

/** The `exp` claim (seconds) of a compact JWT, read without verifying (the token was just verified). */
function expiresAt(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export interface VerifiedTokensOptions {
  /** How long a verified token is taken as verified without checking its signature again (capped by its `exp`). */
  ttlMs?: number;
  /** Tokens kept at most; past it the oldest is forgotten. */
  max?: number;
  now?: () => number;
}

/**
 * The gateway's token check with the verdicts of recent tokens remembered: the same bearer
 * token (byte for byte) arrives on every call of a client, and verifying its HMAC again each
 * time was a tenth of the gateway's CPU per request. Only successes are kept, each until the
 * earlier of its `exp` and `ttlMs` from now, so an expired token is refused as before; a
 * refused token is checked again every time (and cannot push good ones out).
 */
export class VerifiedTokens {
  private readonly cache = new Map<string, { account: AccountContext; until: number }>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(
    private readonly verifier: Pick<TokenVerifier, 'verify'>,
    o: VerifiedTokensOptions = {},
  ) {
    this.ttlMs = o.ttlMs ?? 60_000;
    this.max = o.max ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** The account of a token verified recently and not expired yet, without waiting; else undefined (then `verify`). */
  known(token: string): AccountContext | undefined {
    const hit = this.cache.get(token);
    return hit && hit.until > this.now() ? hit.account : undefined;
  }

  async verify(token: string): Promise<AccountContext> {
    const now = this.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.account;
    if (hit) this.cache.delete(token);
    const account = await this.verifier.verify(token);
    const until = Math.min(now + this.ttlMs, expiresAt(token) ?? Infinity);
    if (until > now) {
      if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, { account, until });
    }
    return account;
  }
}
