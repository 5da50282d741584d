import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A contractor or document created a moment ago reaches the read model through Kafka a
 * little later; a miss is asked again every 100 ms for up to `waitMs` before the caller
 * answers 404.
 */
export async function waitForReplica(found: () => Promise<boolean>, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await found()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}
