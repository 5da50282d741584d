import type { DataSource } from 'typeorm';
import { DocumentAnnounced } from '@papka/contracts';
import { announceAll } from '@papka/messaging';
import { DocumentsRepository } from './documents.repository';

/** A `document.snapshot` for every document of every account (see announceAll). */
export function announceDocuments(ds: DataSource): Promise<number> {
  const repo = new DocumentsRepository(ds);
  return announceAll(ds, {
    event: DocumentAnnounced,
    page: (m, after, limit) => repo.pageAllAccounts(m, after, limit),
    describe: async (doc, m) => ({ id: doc.id, accountId: doc.accountId, data: await repo.snapshot(m, doc) }),
  });
}
