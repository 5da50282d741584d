import type { DataSource } from 'typeorm';
import { ContractorAnnounced } from '@papka/contracts';
import { writeToOutbox } from '@papka/messaging';
import { toSnapshot } from './contractor.mapper';
import { ContractorsRepository } from './contractors.repository';

/**
 * Writes a `contractor.snapshot` event for every contractor into the outbox (the running
 * service's relay publishes them), a page per transaction. For a consumer whose read model
 * must be rebuilt when the topic no longer holds the history (embedded mode's in-process bus,
 * or a Kafka topic restored empty). Consumers upsert, so announcing twice is harmless.
 */
export async function announceContractors(ds: DataSource, pageSize = 200): Promise<number> {
  const repo = new ContractorsRepository(ds);
  let after: string | null = null;
  let count = 0;
  for (;;) {
    const page = await ds.transaction(async (m) => {
      const aggregates = await repo.pageAll(m, after, pageSize);
      for (const a of aggregates) {
        await writeToOutbox(m, ContractorAnnounced, { accountId: a.contractor.accountId, aggregateId: a.contractor.id, data: toSnapshot(a) });
      }
      return aggregates;
    });
    count += page.length;
    if (page.length < pageSize) return count;
    after = page[page.length - 1]!.contractor.id;
  }
}
