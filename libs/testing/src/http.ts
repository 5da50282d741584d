import { mintToken } from '@papka/auth';

/** The secret services under test are started with. */
export const TEST_JWT_SECRET = 'papka-test-secret-0123456789-abcdefghijklmnop';

export const testToken = (accountId: string, userId = `${accountId}-user`) =>
  mintToken({ accountId, userId, secret: TEST_JWT_SECRET, expiresIn: '1h' });

/** Polls until `check` returns a truthy value or the time is up. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, stepMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
