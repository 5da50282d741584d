import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for tokens at rest. The ciphertext names its key (`v1.<keyId>.<iv>.<tag>.<data>`,
 * base64url), so keys rotate: the first key of FINANCE_ENCRYPTION_KEY encrypts, every listed
 * key decrypts, and a stored token is re-encrypted with the current key on its next PUT.
 */
export class TokenCipher {
  private readonly keys = new Map<string, Buffer>();
  private readonly current: string;

  /** `spec`: `<keyId>:<base64 of 32 bytes>[,...]`. */
  constructor(spec: string) {
    for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      const at = part.indexOf(':');
      const id = part.slice(0, at);
      const key = Buffer.from(part.slice(at + 1), 'base64');
      if (at < 1 || !/^[A-Za-z0-9_-]+$/.test(id)) throw new Error('FINANCE_ENCRYPTION_KEY: each key must be <keyId>:<base64>');
      if (key.length !== 32) throw new Error(`FINANCE_ENCRYPTION_KEY: key ${id} must be 32 bytes (base64)`);
      this.keys.set(id, key);
    }
    const first = this.keys.keys().next();
    if (first.done) throw new Error('FINANCE_ENCRYPTION_KEY: no key');
    this.current = first.value;
  }

  encrypt(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv);
    // The connection id as associated data: a ciphertext copied to another connection's row does not decrypt.
    c.setAAD(Buffer.from(aad));
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', this.current, iv.toString('base64url'), c.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  decrypt(stored: string, aad: string): string {
    const [v, id, iv, tag, data] = stored.split('.');
    const key = id === undefined ? undefined : this.keys.get(id);
    if (v !== 'v1' || !key || !iv || !tag || data === undefined) throw new Error(`token encrypted with an unknown key (${id ?? '?'})`);
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(data, 'base64url')), d.final()]).toString('utf8');
  }
}
