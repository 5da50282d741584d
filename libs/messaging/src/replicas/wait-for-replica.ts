import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A contractor or document created a moment ago reaches a service's read model through the
 * bus a little later: a miss is asked again every 100 ms for up to `waitMs` (REPLICA_WAIT_MS)
 * before the caller answers 404. The one way every service waits for a replica.
 */
export async function waitForReplica(found: () => Promise<boolean>, waitMs: number): Promise<boolean> {
  // A missing or bad setting waits not at all (never forever).
  const deadline = Date.now() + (Number.isFinite(waitMs) && waitMs > 0 ? waitMs : 0);
  for (;;) {
    if (await found()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}
