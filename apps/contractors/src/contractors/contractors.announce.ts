import type { DataSource } from 'typeorm';
import { ContractorAnnounced } from '@papka/contracts';
import { announceAll } from '@papka/messaging';
import { toSnapshot } from './contractor.mapper';
import { ContractorsRepository } from './contractors.repository';

/** A `contractor.snapshot` for every contractor of every account (see announceAll). */
export function announceContractors(ds: DataSource): Promise<number> {
  const repo = new ContractorsRepository(ds);
  return announceAll(ds, {
    event: ContractorAnnounced,
    page: (m, after, limit) => repo.pageAllAccounts(m, after, limit),
    describe: async (a) => ({ id: a.contractor.id, accountId: a.contractor.accountId, data: toSnapshot(a) }),
  });
}
