import type { DataSource } from 'typeorm';
import { OrganizationUpdated } from '@papka/contracts';
import { announceAll } from '@papka/messaging';
import { toSnapshot } from './organization.mapper';
import { OrganizationRepository } from './organization.repository';

/**
 * An `organization.updated` for every account's organisation (see announceAll), keyed by account
 * like the service's own. There is no `organization.snapshot`: consumers upsert the one event.
 */
export function announceOrganizations(ds: DataSource, pageSize?: number): Promise<number> {
  const repo = new OrganizationRepository(ds);
  return announceAll(
    ds,
    {
      event: OrganizationUpdated,
      page: (m, after, limit) => repo.pageAllAccounts(m, after, limit),
      describe: async (o) => ({ id: o.accountId, accountId: o.accountId, data: toSnapshot(o) }),
    },
    pageSize,
  );
}
