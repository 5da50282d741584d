import { SignJWT } from 'jose';
import { InvalidTokenError, mintToken, TokenVerifier } from '@papka/auth';
import { VerifiedTokens } from './verified-tokens';

const secret = 'a-test-secret-that-is-long-enough-0123456789';

/** The real verifier, counting the signature checks it makes. */
function countingVerifier() {
  const real = new TokenVerifier({ jwtSecret: secret });
  const counted = { calls: 0, verify: (t: string) => (counted.calls++, real.verify(t)) };
  return counted;
}

describe(VerifiedTokens.name, () => {
  it('checks a token once and answers its account from memory afterwards', async () => {
    const verifier = countingVerifier();
    const sut = new VerifiedTokens(verifier);
    const token = await mintToken({ accountId: 'acme-1', userId: 'u1', secret });
    for (let i = 0; i < 3; i++) await expect(sut.verify(token)).resolves.toEqual({ accountId: 'acme-1', userId: 'u1' });
    expect(verifier.calls).toBe(1);
  });

  it('refuses a token once it has expired, though it was accepted before', async () => {
    let now = Date.now();
    const sut = new VerifiedTokens(countingVerifier(), { now: () => now, ttlMs: 3_600_000 });
    const exp = Math.floor(now / 1000) + 30;
    const token = await new SignJWT({ acc: 'acme-1' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(new TextEncoder().encode(secret));
    await expect(sut.verify(token)).resolves.toMatchObject({ accountId: 'acme-1' });
    now = (exp + 31) * 1000; // past exp and its 30 s of clock leeway; jose is asked again and says expired
    jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      await expect(sut.verify(token)).rejects.toThrow('token expired');
    } finally {
      jest.useRealTimers();
    }
  });

  it('checks again after its time to live', async () => {
    let now = 1_000_000;
    const verifier = countingVerifier();
    const sut = new VerifiedTokens(verifier, { now: () => now, ttlMs: 1_000 });
    const token = await mintToken({ accountId: 'acme-1', secret });
    await sut.verify(token);
    now += 1_001;
    await sut.verify(token);
    expect(verifier.calls).toBe(2);
  });

  it('never remembers a refused token, and a token differing by one byte is checked on its own', async () => {
    const verifier = countingVerifier();
    const sut = new VerifiedTokens(verifier);
    const token = await mintToken({ accountId: 'acme-1', secret });
    await sut.verify(token);
    const forged = `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;
    await expect(sut.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(sut.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(verifier.calls).toBe(3);
  });

  it('keeps at most `max` tokens, forgetting the oldest', async () => {
    const verifier = countingVerifier();
    const sut = new VerifiedTokens(verifier, { max: 2 });
    const [a, b, c] = await Promise.all(['a1', 'b1', 'c1'].map((accountId) => mintToken({ accountId, secret })));
    for (const t of [a!, b!, c!, c!, b!]) await sut.verify(t);
    expect(verifier.calls).toBe(3);
    await sut.verify(a!); // forgotten: checked again
    expect(verifier.calls).toBe(4);
  });
});
