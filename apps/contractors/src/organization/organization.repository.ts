import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource, type EntityManager } from 'typeorm';
import { returning } from '../contractors/contractors.repository';
import { Organization } from './organization.entity';

/** An organisation claimed by a pass of the enrichment worker, with what a release puts back. */
export interface ClaimedOrganization {
  org: Organization;
  dueAt: Date;
  leasedUntil: Date;
}

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

  /**
   * Claims up to `limit` organisations whose look-ups are pending and due (any account), the
   * longest waiting first, as {@link ContractorsRepository.claimDueContractorsAllAccounts} does:
   * locked `FOR UPDATE SKIP LOCKED` (a PUT holding one is skipped too) and leased `leaseMs`
   * ahead in one statement, so another replica's pass does not look them up as well.
   */
  async claimDueLookupsAllAccounts(limit: number, leaseMs: number): Promise<ClaimedOrganization[]> {
    const [sql, params] = this.dueLookupQuery(limit, leaseMs);
    const claimed = await returning<{ account_id: string; due_at: Date; leased_until: Date }>(this.ds, sql, params);
    if (claimed.length === 0) return [];
    const rows = await this.ds.manager.findBy(Organization, { accountId: In(claimed.map((c) => c.account_id)) });
    return claimed
      .sort((a, b) => a.due_at.getTime() - b.due_at.getTime())
      .flatMap((c) => {
        const org = rows.find((r) => r.accountId === c.account_id);
        // Saved again since by a PUT that looked up everything: nothing to retry.
        return org && org.lookupStatus === 'pending' ? [{ org, dueAt: c.due_at, leasedUntil: c.leased_until }] : [];
      });
  }

  /** The claim of {@link claimDueLookupsAllAccounts}; the due rows come through `ix_organization_lookup_due` (migration 1763700000800). */
  dueLookupQuery(limit: number, leaseMs = 0): [string, unknown[]] {
    return [
      `WITH due AS (
        SELECT account_id, lookup_next_at FROM organization
        WHERE lookup_status = 'pending' AND lookup_next_at <= now()
        ORDER BY lookup_next_at LIMIT $1
        FOR UPDATE SKIP LOCKED)
      UPDATE organization t SET lookup_next_at = date_trunc('milliseconds', now() + $2::double precision * interval '1 millisecond')
      FROM due WHERE t.account_id = due.account_id
      RETURNING t.account_id, due.lookup_next_at AS due_at, t.lookup_next_at AS leased_until`,
      [limit, leaseMs],
    ];
  }

  /** Gives claimed organisations a pass did not get to their due time back (see ContractorsRepository.releaseClaims). */
  async releaseClaims(claims: ClaimedOrganization[]): Promise<void> {
    if (claims.length === 0) return;
    await this.ds.query(
      `UPDATE organization t SET lookup_next_at = r.due_at
       FROM unnest($1::varchar[], $2::timestamptz[], $3::timestamptz[]) AS r(account_id, due_at, leased_until)
       WHERE t.account_id = r.account_id AND t.lookup_next_at = r.leased_until`,
      [claims.map((c) => c.org.accountId), claims.map((c) => c.dueAt), claims.map((c) => c.leasedUntil)],
    );
  }

  /** Puts a pending organisation's next retry `delayMs` ahead after it failed with an error that is not the provider's. */
  async backOffLookup(accountId: string, delayMs: number): Promise<void> {
    await this.ds.query(
      `UPDATE organization SET lookup_next_at = now() + $2::double precision * interval '1 millisecond' WHERE account_id = $1 AND lookup_status = 'pending'`,
      [accountId, delayMs],
    );
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
