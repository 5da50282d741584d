import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { bearerToken, InvalidTokenError, KeysUnavailableError, mintToken, TokenVerifier } from './tokens';

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
    const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    await expect(sut.verify(token)).rejects.toThrow(/account/);
  });

  it('rejects a token that never expires (no "exp")', async () => {
    const token = await new SignJWT({ acc: 'acme-1' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    await expect(sut.verify(token)).rejects.toThrow(new InvalidTokenError('token has no expiry ("exp" claim)'));
  });

  it('allows an issuer clock up to 30 s ahead ("nbf" in the near future)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (nbf: number) => new SignJWT({ acc: 'acme-1' }).setProtectedHeader({ alg: 'HS256' }).setNotBefore(nbf).setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    await expect(sut.verify(await sign(now + 10))).resolves.toMatchObject({ accountId: 'acme-1' });
    await expect(sut.verify(await sign(now + 300))).rejects.toBeInstanceOf(InvalidTokenError);
  });

  describe('with a JWKS endpoint', () => {
    let server: Server;
    let url = '';
    let answer: 'down' | 'html' = 'down';
    beforeAll(async () => {
      server = createServer((_req, res) => {
        if (answer === 'html') return void res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad gateway</html>');
        res.socket?.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    const rs256Token = async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return new SignJWT({ acc: 'acme-1' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('1h').sign(privateKey);
    };

    it('says the keys are unavailable (not that the token is invalid) while the endpoint is down or answers an error page', async () => {
      const token = await rs256Token();
      answer = 'down';
      await expect(new TokenVerifier({ jwksUrl: url }).verify(token)).rejects.toBeInstanceOf(KeysUnavailableError);
      answer = 'html';
      await expect(new TokenVerifier({ jwksUrl: url }).verify(token)).rejects.toBeInstanceOf(KeysUnavailableError);
    });

    it('still refuses a token that is not a JWT at all as invalid', async () => {
      await expect(new TokenVerifier({ jwksUrl: url }).verify('not.a.jwt')).rejects.toBeInstanceOf(InvalidTokenError);
    });
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
