import { randomBytes } from 'node:crypto';
import { TokenCipher } from './token-cipher';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe(TokenCipher.name, () => {
  it('round-trips a token and never holds it in clear, naming the key in the ciphertext', () => {
    const sut = new TokenCipher(key('k1'));
    const stored = sut.encrypt('adesk-secret-token', 'conn-1');
    expect(stored).toMatch(/^v1\.k1\./);
    expect(stored).not.toContain('adesk-secret-token');
    expect(sut.decrypt(stored, 'conn-1')).toBe('adesk-secret-token');
  });

  it('decrypts with an older key after rotation, and encrypts with the first one', () => {
    const old = key('old');
    const stored = new TokenCipher(old).encrypt('t', 'c');
    const sut = new TokenCipher(`${key('new')},${old}`);
    expect(sut.decrypt(stored, 'c')).toBe('t');
    expect(sut.encrypt('t', 'c')).toMatch(/^v1\.new\./);
  });

  it("refuses a ciphertext moved to another connection's row, or tampered with", () => {
    const sut = new TokenCipher(key('k'));
    const stored = sut.encrypt('t', 'conn-a');
    expect(() => sut.decrypt(stored, 'conn-b')).toThrow();
    const parts = stored.split('.');
    parts[4] = Buffer.from('x').toString('base64url');
    expect(() => sut.decrypt(parts.join('.'), 'conn-a')).toThrow();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new TokenCipher('k:c2hvcnQ=')).toThrow(/32 bytes/);
  });
});
