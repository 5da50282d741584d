import type { DataSource } from 'typeorm';
import { announceContractors } from './contractors/contractors.announce';
import { announceOrganizations } from './organization/organization.announce';

/**
 * Everything the service owns, through the outbox: a `contractor.snapshot` per contractor and an
 * `organization.updated` per organisation. Returns how many events were written.
 */
export async function announceContractorsAndOrganizations(ds: DataSource): Promise<number> {
  return (await announceContractors(ds)) + (await announceOrganizations(ds));
}
