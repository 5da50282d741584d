import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ContractorSnapshot, OrganizationSnapshot } from '@papka/contracts';
import { upsertVersioned } from '@papka/persistence';
import { ContractorReplica } from './contractor-replica.entity';
import { OrganizationReplica } from './organization-replica.entity';

/** The contractor and organisation read models; each query filters by account. */
@Injectable()
export class ReplicasRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** `version` is the event's per-aggregate sequence: a late, older event does not overwrite a newer state. */
  upsertContractor(m: EntityManager, accountId: string, c: ContractorSnapshot, version: number, deleted: boolean): Promise<boolean> {
    return upsertVersioned(
      m,
      'contractor_replica',
      {
        id: c.uuid,
        account_id: accountId,
        name: c.mainInfo.name,
        inn: c.mainInfo.inn,
        address: c.mainInfo.address,
        snapshot: JSON.stringify(c),
        deleted,
        version,
      },
      { conflict: ['id'] },
    );
  }

  upsertOrganization(m: EntityManager, accountId: string, o: OrganizationSnapshot, version: number): Promise<boolean> {
    return upsertVersioned(m, 'organization_replica', { account_id: accountId, snapshot: JSON.stringify(o), version }, { conflict: ['account_id'] });
  }

  /** Deleted ones included: documents keep showing the last known name. */
  contractor(accountId: string, id: string, m: EntityManager = this.ds.manager): Promise<ContractorReplica | null> {
    return m.findOneBy(ContractorReplica, { id, accountId });
  }

  organization(accountId: string, m: EntityManager = this.ds.manager): Promise<OrganizationReplica | null> {
    return m.findOneBy(OrganizationReplica, { accountId });
  }
}
