import { SignJWT } from 'jose';
import { bearerToken, InvalidTokenError, mintToken, TokenVerifier } from './tokens';

const secret = 'a-test-secret-that-is-long-enough-0123456789';

describe(TokenVerifier.name, () => {
  const sut = new TokenVerifier({ jwtSecret: secret });

  it('accepts a minted token and returns its account', async () => {
    const token = await mintToken({ accountId: 'acme-1', userId: 'u1', secret });
    await expect(sut.verify(token)).resolves.toEqual({ accountId: 'acme-1', userId: 'u1' });
  });

  it('rejects a token signed with another secret', async () => {
    const token = await mintToken({ accountId: 'acme-1', secret: `${secret}x` });
    await expect(sut.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('rejects an expired token', async () => {
    const token = await new SignJWT({ acc: 'acme-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(secret));
    await expect(sut.verify(token)).rejects.toThrow('token expired');
  });

  it('rejects a token without an account claim', async () => {
    const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    await expect(sut.verify(token)).rejects.toThrow(/account/);
  });

  it('rejects the "none" algorithm', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ acc: 'acme-1' })).toString('base64url');
    await expect(sut.verify(`${header}.${body}.`)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});

describe(bearerToken.name, () => {
  it('extracts the token', () => expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi'));
  it('returns null without the scheme', () => expect(bearerToken('abc.def.ghi')).toBeNull());
  it('returns null when absent', () => expect(bearerToken(undefined)).toBeNull());
});
