import type { InteractionSnapshot, InteractionSnapshotV1 } from './interaction-snapshot';

/** The version interaction events are emitted with; 2 took the payments out of the snapshot. */
export const INTERACTION_EVENT_VERSION = 2;

/**
 * An interaction event's `data` in the version-2 shape, whichever version it was emitted with:
 * a version-1 snapshot loses its `payments` array and gains `paymentsCount` (its totals were
 * already there). Fields an event adds (`payment`, `document`, `file`, `previousStatus`,
 * `reason`) are kept. Consumers of `papka.interactions.v1` call this instead of reading `data`.
 */
export function interactionSnapshotOf<T extends InteractionSnapshot = InteractionSnapshot>(event: { version: number; data: unknown }): T {
  if (event.version >= 2) return event.data as T;
  const { payments, ...rest } = event.data as InteractionSnapshotV1 & Record<string, unknown>;
  return { ...rest, paymentsCount: Array.isArray(payments) ? payments.length : 0 } as unknown as T;
}
