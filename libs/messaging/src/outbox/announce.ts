import type { DataSource, EntityManager } from 'typeorm';
import type { EventDefinition } from '@papka/contracts';
import { writeToOutbox } from './outbox.writer';

export interface AnnounceSource<TRow, TData> {
  /** The `*.snapshot` event to write. */
  event: EventDefinition<TData>;
  /** Up to `limit` rows with an id above `afterId` (null: from the start), in id order. */
  page: (m: EntityManager, afterId: string | null, limit: number) => Promise<TRow[]>;
  describe: (row: TRow, m: EntityManager) => Promise<{ id: string; accountId: string; data: TData }>;
}

/**
 * Writes a snapshot event for every aggregate a service owns into its outbox, a page per
 * transaction (the running service's relay publishes them). For consumers whose read model must
 * be rebuilt where the topic no longer holds the history; they upsert, so twice is harmless.
 * Returns how many were announced.
 */
export async function announceAll<TRow, TData>(ds: DataSource, source: AnnounceSource<TRow, TData>, pageSize = 200): Promise<number> {
  let after: string | null = null;
  let count = 0;
  for (;;) {
    const ids = await ds.transaction(async (m) => {
      const written: string[] = [];
      for (const row of await source.page(m, after, pageSize)) {
        const { id, accountId, data } = await source.describe(row, m);
        await writeToOutbox(m, source.event, { accountId, aggregateId: id, data });
        written.push(id);
      }
      return written;
    });
    count += ids.length;
    if (ids.length < pageSize) return count;
    after = ids[ids.length - 1]!;
  }
}
