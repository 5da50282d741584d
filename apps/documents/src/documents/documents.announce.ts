import { MoreThan, type DataSource } from 'typeorm';
import { DocumentAnnounced } from '@papka/contracts';
import { writeToOutbox } from '@papka/messaging';
import { DocumentEntity } from './document.entity';
import { DocumentsRepository } from './documents.repository';

/**
 * Writes a `document.snapshot` event for every document into the outbox (the running
 * service's relay publishes them), a page per transaction; see announceContractors.
 */
export async function announceDocuments(ds: DataSource, pageSize = 200): Promise<number> {
  const repo = new DocumentsRepository(ds);
  let after: string | null = null;
  let count = 0;
  for (;;) {
    const page = await ds.transaction(async (m) => {
      const docs = await m.find(DocumentEntity, { where: after ? { id: MoreThan(after) } : {}, order: { id: 'ASC' }, take: pageSize });
      for (const doc of docs) {
        await writeToOutbox(m, DocumentAnnounced, { accountId: doc.accountId, aggregateId: doc.id, data: await repo.snapshot(doc, m) });
      }
      return docs;
    });
    count += page.length;
    if (page.length < pageSize) return count;
    after = page[page.length - 1]!.id;
  }
}
