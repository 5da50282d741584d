import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/** Who is calling: the account (tenant) every row is scoped by, and the user. */
export interface AccountContext {
  accountId: string;
  userId: string;
}

export interface AuthConfig {
  /** HS256 shared secret (default mode). */
  jwtSecret?: string;
  /** RS256/ES256 keys from a JWKS endpoint (optional, instead of the secret). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/** Claim holding the account id. */
export const ACCOUNT_CLAIM = 'acc';
const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

/**
 * The keys to check a token with could not be had (the JWKS endpoint down, timing out, or
 * answering something that is not a key set): not the caller's fault, so a 503, never a 401.
 */
export class KeysUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeysUnavailableError';
  }
}

/** A failure to get the key set, as opposed to a token that does not match it. */
const isKeySourceFailure = (err: unknown): boolean =>
  err instanceof errors.JWKSTimeout ||
  err instanceof errors.JWKSInvalid ||
  // Network errors (fetch's TypeError, an abort) are not jose's own.
  !(err instanceof errors.JOSEError) ||
  (err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set HTTP response/.test(err.message));

/** Leeway for `exp` and `nbf`: an issuer whose clock runs a little ahead must not cause brief 401s. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** Verifies bearer tokens and turns them into an AccountContext. */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(private readonly config: AuthConfig) {
    if (config.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(config.jwksUrl));
      this.algorithms = ['RS256', 'ES256', 'PS256'];
    } else if (config.jwtSecret) {
      this.key = new TextEncoder().encode(config.jwtSecret);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('auth needs AUTH_JWT_SECRET or AUTH_JWKS_URL');
    }
  }

  async verify(token: string): Promise<AccountContext> {
    let payload: JWTPayload;
    try {
      // A token must expire: one signed without `exp` would be valid for ever.
      const opts = {
        algorithms: this.algorithms,
        issuer: this.config.issuer,
        audience: this.config.audience,
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      };
      payload =
        this.key instanceof Uint8Array
          ? (await jwtVerify(token, this.key, opts)).payload
          : (await jwtVerify(token, this.key, opts)).payload;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new InvalidTokenError('token expired');
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'exp') throw new InvalidTokenError('token has no expiry ("exp" claim)');
      if (!(this.key instanceof Uint8Array) && isKeySourceFailure(err)) {
        throw new KeysUnavailableError(`the signing keys could not be fetched from AUTH_JWKS_URL: ${(err as Error).message}`, { cause: err });
      }
      throw new InvalidTokenError('token is not valid');
    }
    const accountId = payload[ACCOUNT_CLAIM];
    if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
      throw new InvalidTokenError(`token has no valid "${ACCOUNT_CLAIM}" (account) claim`);
    }
    return { accountId, userId: typeof payload.sub === 'string' ? payload.sub : accountId };
  }
}

export interface MintOptions {
  accountId: string;
  userId?: string;
  secret: string;
  /** e.g. '30d', '1h' */
  expiresIn?: string;
  issuer?: string;
  audience?: string;
}

/** Signs an HS256 token (local use, tests and the token CLI). */
export async function mintToken(o: MintOptions): Promise<string> {
  if (!ACCOUNT_ID.test(o.accountId)) {
    throw new Error('account id must be 1-64 characters of letters, digits, "_", "-" or "."');
  }
  let jwt = new SignJWT({ [ACCOUNT_CLAIM]: o.accountId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.userId ?? `user-${o.accountId}`)
    .setIssuedAt()
    .setExpirationTime(o.expiresIn ?? '30d');
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}

/** Extracts the token from an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(value ?? '');
  return m ? m[1] : null;
}
