import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { Organization } from './organization.entity';

/** The account's own organisation: one row per account. */
@Injectable()
export class OrganizationRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  find(accountId: string): Promise<Organization | null> {
    return this.ds.manager.findOneBy(Organization, { accountId });
  }

  /**
   * The row, locked for the rest of the transaction (null before the first PUT). The account's
   * advisory lock comes first, so two first PUTs queue as two later ones do on the row lock, and
   * the read after it sees what the other committed.
   */
  async lock(m: EntityManager, accountId: string): Promise<Organization | null> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('contractors:organization:' || $1::text, 0))`, [accountId]);
    return m.findOne(Organization, { where: { accountId }, lock: { mode: 'pessimistic_write' } });
  }

  /** Organisations whose look-ups are pending and due (any account), the longest waiting first. */
  dueLookupsAllAccounts(limit: number): Promise<Organization[]> {
    return this.ds.getRepository(Organization).createQueryBuilder('o')
      .where(`o.lookup_status = 'pending' AND o.lookup_next_at <= now()`)
      .orderBy('o.lookup_next_at').limit(limit).getMany();
  }

  save(m: EntityManager, accountId: string, fields: Omit<Organization, 'accountId'>): Promise<Organization> {
    return m.save(Organization, m.create(Organization, { ...fields, accountId }));
  }

  /**
   * For the re-announce only: up to `limit` organisations of any account after `afterAccountId`,
   * in account order, read `FOR SHARE` to the end of the announce's transaction, so a PUT of one
   * of them waits and its event comes after the snapshot (see ContractorsRepository.pageAllAccounts).
   */
  pageAllAccounts(m: EntityManager, afterAccountId: string | null, limit: number): Promise<Organization[]> {
    const qb = m.getRepository(Organization).createQueryBuilder('o').orderBy('o.accountId').limit(limit).setLock('pessimistic_read');
    if (afterAccountId) qb.where('o.accountId > :afterAccountId', { afterAccountId });
    return qb.getMany();
  }
}
