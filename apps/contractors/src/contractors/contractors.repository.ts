import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { ContractorView, Window } from '@papka/contracts';
import { BankAccount, Contact, Contractor, type LookupStatus } from './contractor.entity';
import type { ContractorAggregate } from './contractor.mapper';

export interface ContractorFilter {
  q?: string;
  inn?: string;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);

/** Contractors with their bank accounts and contacts as JSON, in the order the API shows them. */
const VIEW_SELECT = `
  SELECT c.id, c.type, c.name, c.inn, c.address, c.full_info, c.created_at,
    COALESCE((SELECT json_agg(json_build_object('id', b.id, 'bik', b.bik, 'number', b.number, 'name', b.name,
                'fullInfo', b.full_info) ORDER BY b.created_at, b.id)
              FROM bank_account b WHERE b.contractor_id = c.id), '[]'::json) AS bank_info,
    COALESCE((SELECT json_agg(json_build_object('id', k.id, 'fio', k.fio, 'phone', k.phone, 'post', k.post,
                'email', k.email) ORDER BY k.created_at, k.id)
              FROM contact k WHERE k.contractor_id = c.id), '[]'::json) AS contact_info
  FROM contractor c`;

interface ViewRow {
  id: string;
  type: number;
  name: string;
  inn: string | null;
  address: string | null;
  full_info: Record<string, unknown> | null;
  created_at: Date;
  bank_info: ContractorView['bankInfo'];
  contact_info: ContractorView['contactInfo'];
}

const toViewFromRow = (r: ViewRow): ContractorView => ({
  uuid: r.id,
  type: r.type,
  mainInfo: { name: r.name, inn: r.inn, address: r.address },
  bankInfo: r.bank_info,
  contactInfo: r.contact_info,
  fullInfo: r.full_info,
  createdAt: r.created_at.toISOString(),
});

type LookupFields = ReturnType<typeof ContractorsRepository.lookupFields>;
export type NewContractor = Pick<Contractor, 'id' | 'type' | 'name' | 'inn' | 'address' | 'fullInfo'> & LookupFields;
export type NewBankAccount = Pick<BankAccount, 'id' | 'bik' | 'number' | 'name' | 'fullInfo'> & LookupFields;
export type NewContact = Pick<Contact, 'id' | 'fio' | 'phone' | 'post' | 'email'>;

/** A due look-up claimed by a worker's pass ({@link ContractorsRepository.claimDueContractorsAllAccounts}). */
export interface ClaimedLookup {
  id: string;
  accountId: string;
  lookupStatus: LookupStatus;
  lookupAttempts: number;
  /** When it was due: what {@link ContractorsRepository.releaseClaims} puts back. */
  dueAt: Date;
  /** The lease this claim set: a release only touches a row that still has it. */
  leasedUntil: Date;
}
export type ClaimedContractor = ClaimedLookup & { inn: string | null };
export type ClaimedBankAccount = ClaimedLookup & { contractorId: string; bik: string };
/** The rows an UPDATE … RETURNING gave (TypeORM answers `[rows, count]` for one on PostgreSQL). */
export async function returning<R>(ds: DataSource, sql: string, params: unknown[]): Promise<R[]> {
  const result = (await ds.query(sql, params)) as [R[], number] | R[];
  return Array.isArray(result[0]) ? (result[0] as R[]) : (result as R[]);
}
const byDueAt = (a: ClaimedLookup, b: ClaimedLookup) => a.dueAt.getTime() - b.dueAt.getTime() || (a.id < b.id ? -1 : 1);

/**
 * Every contractor, bank account and contact query. Each takes the account and filters by it;
 * writes take the command's transaction (`m`) as their first argument. The two scans over
 * every account (re-announce, due look-ups) say so in their names.
 */
/** How many times a "not found" look-up is asked again, a day apart. */
export const NOT_FOUND_RETRIES = 7;
const DAY_MS = 24 * 3600 * 1000;

@Injectable()
export class ContractorsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * The public view of a page of contractors in one round trip: bank accounts and contacts are
   * aggregated in PostgreSQL (the list is the hottest read of the service).
   */
  async listViews(accountId: string, filter: ContractorFilter, window: Window): Promise<ContractorView[]> {
    const params: unknown[] = [accountId];
    const where = ['c.account_id = $1'];
    if (filter.inn) {
      params.push(filter.inn);
      where.push(`c.inn = $${params.length}`);
    }
    if (filter.q) {
      params.push(`%${escapeLike(filter.q.toLowerCase())}%`);
      where.push(`lower(c.name) LIKE $${params.length} ESCAPE '\\'`);
    }
    params.push(window.take, window.skip);
    const rows: ViewRow[] = await this.ds.query(
      `${VIEW_SELECT} WHERE ${where.join(' AND ')}
       ORDER BY c.created_at DESC, c.id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toViewFromRow);
  }

  async findView(accountId: string, id: string): Promise<ContractorView | null> {
    const rows: ViewRow[] = await this.ds.query(`${VIEW_SELECT} WHERE c.account_id = $1 AND c.id = $2`, [accountId, id]);
    return rows[0] ? toViewFromRow(rows[0]) : null;
  }

  async find(accountId: string, id: string, m: EntityManager = this.ds.manager): Promise<ContractorAggregate | null> {
    const c = await m.findOneBy(Contractor, { id, accountId });
    if (!c) return null;
    const [aggregate] = await this.withChildren(m, [c]);
    return aggregate;
  }

  /** Locks the contractor row for the rest of the transaction (serialises changes to it). */
  async lock(m: EntityManager, accountId: string, id: string): Promise<Contractor | null> {
    return m.findOne(Contractor, { where: { id, accountId }, lock: { mode: 'pessimistic_write' } });
  }

  async insert(m: EntityManager, accountId: string, c: NewContractor): Promise<void> {
    await m.insert(Contractor, { ...c, accountId });
  }

  async delete(m: EntityManager, accountId: string, id: string): Promise<void> {
    await m.delete(Contractor, { id, accountId });
  }

  /** Marks the contractor changed (a child was added or removed). */
  async touch(m: EntityManager, accountId: string, id: string): Promise<void> {
    await m.update(Contractor, { id, accountId }, { updatedAt: new Date() });
  }

  async updateLookup(m: EntityManager, accountId: string, id: string, fields: Partial<Pick<Contractor, 'fullInfo' | 'address' | 'updatedAt'>> & LookupFields) {
    await m.update(Contractor, { id, accountId }, fields);
  }

  async insertBankAccount(m: EntityManager, accountId: string, contractorId: string, b: NewBankAccount): Promise<void> {
    await m.insert(BankAccount, { ...b, contractorId, accountId });
  }

  async findBankAccount(m: EntityManager, accountId: string, contractorId: string, id: string): Promise<BankAccount | null> {
    return m.findOneBy(BankAccount, { id, contractorId, accountId });
  }

  /** How many bank accounts and contacts the contractor has (read under its row lock, to check the limits). */
  async countChildren(m: EntityManager, accountId: string, contractorId: string): Promise<{ bankAccounts: number; contacts: number }> {
    const [bankAccounts, contacts] = await Promise.all([m.countBy(BankAccount, { contractorId, accountId }), m.countBy(Contact, { contractorId, accountId })]);
    return { bankAccounts, contacts };
  }

  /** False when the contractor has no such bank account. */
  async deleteBankAccount(m: EntityManager, accountId: string, contractorId: string, id: string): Promise<boolean> {
    return Boolean((await m.delete(BankAccount, { id, contractorId, accountId })).affected);
  }

  async updateBankLookup(m: EntityManager, accountId: string, id: string, fields: Partial<Pick<BankAccount, 'fullInfo'>> & LookupFields) {
    await m.update(BankAccount, { id, accountId }, fields);
  }

  async insertContact(m: EntityManager, accountId: string, contractorId: string, k: NewContact): Promise<void> {
    await m.insert(Contact, { ...k, contractorId, accountId });
  }

  /** False when the contractor has no such contact. */
  async deleteContact(m: EntityManager, accountId: string, contractorId: string, id: string): Promise<boolean> {
    return Boolean((await m.delete(Contact, { id, contractorId, accountId })).affected);
  }

  /**
   * Every contractor of every account, in id order after `afterId` (for re-announcing). The rows
   * are read `FOR SHARE` and held to the end of the announce's transaction: a change to one of
   * them (each takes its contractor's row lock first) waits, and its event comes after the
   * snapshot. Unlocked, a change committed between this read and the snapshot's outbox write got
   * the lower sequence, and every replica kept the older state.
   */
  async pageAllAccounts(m: EntityManager, afterId: string | null, limit: number): Promise<ContractorAggregate[]> {
    const qb = m.getRepository(Contractor).createQueryBuilder('c').orderBy('c.id').limit(limit).setLock('pessimistic_read');
    if (afterId) qb.where('c.id > :afterId', { afterId });
    return this.withChildren(m, await qb.getMany());
  }

  private async withChildren(m: EntityManager, contractors: Contractor[]): Promise<ContractorAggregate[]> {
    if (contractors.length === 0) return [];
    const ids = contractors.map((c) => c.id);
    const [banks, contacts] = await Promise.all([
      m.find(BankAccount, { where: { contractorId: In(ids) }, order: { createdAt: 'ASC', id: 'ASC' } }),
      m.find(Contact, { where: { contractorId: In(ids) }, order: { createdAt: 'ASC', id: 'ASC' } }),
    ]);
    return contractors.map((contractor) => ({
      contractor,
      bankAccounts: banks.filter((b) => b.contractorId === contractor.id),
      contacts: contacts.filter((k) => k.contractorId === contractor.id),
    }));
  }

  /**
   * Claims up to `limit` contractors whose look-up is due again (pending, or not found and
   * retried; any account), the longest waiting first: in one statement they are locked
   * (`FOR UPDATE SKIP LOCKED`, so a replica claiming at the same moment takes others) and their
   * `lookup_next_at` is pushed `leaseMs` ahead, so no other replica's pass sees them due until the
   * look-up's outcome sets the real next time (or the lease runs out, after a crash). Before, every
   * replica read the same due rows and asked DaData for each of them, each meeting a 429 alike.
   */
  async claimDueContractorsAllAccounts(limit: number, leaseMs: number): Promise<ClaimedContractor[]> {
    const [sql, params] = this.dueLookupQueries(limit, leaseMs).contractors;
    const rows: { id: string; account_id: string; inn: string | null; lookup_status: LookupStatus; lookup_attempts: number; due_at: Date; leased_until: Date }[] =
      await returning(this.ds, sql, params);
    return rows
      .map((r) => ({ id: r.id, accountId: r.account_id, inn: r.inn, lookupStatus: r.lookup_status, lookupAttempts: r.lookup_attempts, dueAt: r.due_at, leasedUntil: r.leased_until }))
      .sort(byDueAt);
  }

  /** The same for bank accounts. */
  async claimDueBankAccountsAllAccounts(limit: number, leaseMs: number): Promise<ClaimedBankAccount[]> {
    const [sql, params] = this.dueLookupQueries(limit, leaseMs).banks;
    const rows: {
      id: string;
      account_id: string;
      contractor_id: string;
      bik: string;
      lookup_status: LookupStatus;
      lookup_attempts: number;
      due_at: Date;
      leased_until: Date;
    }[] = await returning(this.ds, sql, params);
    return rows
      .map((r) => ({
        id: r.id,
        accountId: r.account_id,
        contractorId: r.contractor_id,
        bik: r.bik,
        lookupStatus: r.lookup_status,
        lookupAttempts: r.lookup_attempts,
        dueAt: r.due_at,
        leasedUntil: r.leased_until,
      }))
      .sort(byDueAt);
  }

  /**
   * The worker's two claims ({@link claimDueContractorsAllAccounts}, {@link claimDueBankAccountsAllAccounts}),
   * as SQL and parameters. The due rows are found through their table's `ix_*_lookup_queue`
   * (migration 1763700001000): the inner SELECT repeats that index's predicate exactly. The
   * lease is cut to milliseconds, as JavaScript reads it back, so a release can match it.
   */
  dueLookupQueries(limit: number, leaseMs = 0): { contractors: [string, unknown[]]; banks: [string, unknown[]] } {
    const claim = (table: string, columns: string) => `
      WITH due AS (
        SELECT id, lookup_next_at FROM ${table}
        WHERE lookup_status IN ('pending', 'not_found') AND lookup_next_at <= now()
        ORDER BY lookup_next_at LIMIT $1
        FOR UPDATE SKIP LOCKED)
      UPDATE ${table} t SET lookup_next_at = date_trunc('milliseconds', now() + $2::double precision * interval '1 millisecond')
      FROM due WHERE t.id = due.id
      RETURNING ${columns}, due.lookup_next_at AS due_at, t.lookup_next_at AS leased_until`;
    return {
      contractors: [claim('contractor', 't.id, t.account_id, t.inn, t.lookup_status, t.lookup_attempts'), [limit, leaseMs]],
      banks: [claim('bank_account', 't.id, t.account_id, t.contractor_id, t.bik, t.lookup_status, t.lookup_attempts'), [limit, leaseMs]],
    };
  }

  /**
   * Gives claimed rows the pass did not get to (it ended at a provider that could not answer)
   * their due time back, so the next pass (of any replica) takes them instead of waiting out the
   * lease. A row whose lease is no longer this claim's (completed, re-created) is left alone.
   */
  async releaseClaims(kind: 'contractor' | 'bank_account', rows: { id: string; dueAt: Date; leasedUntil: Date }[]): Promise<void> {
    if (rows.length === 0) return;
    await this.ds.query(
      `UPDATE ${kind} t SET lookup_next_at = r.due_at
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS r(id, due_at, leased_until)
       WHERE t.id = r.id AND t.lookup_next_at = r.leased_until`,
      [rows.map((r) => r.id), rows.map((r) => r.dueAt), rows.map((r) => r.leasedUntil)],
    );
  }

  /**
   * Puts a due row's next attempt `delayMs` ahead after its look-up failed with an error that is
   * not the provider's (its completion throwing, say): without it, the row stayed first in line
   * and failed every pass, and nothing after it (other rows, bank accounts, organisations) was
   * ever looked up again.
   */
  async backOffLookup(kind: 'contractor' | 'bank_account', id: string, delayMs: number): Promise<void> {
    await this.ds.query(
      `UPDATE ${kind} SET lookup_next_at = now() + $2::double precision * interval '1 millisecond'
       WHERE id = $1 AND lookup_status IN ('pending', 'not_found')`,
      [id, delayMs],
    );
  }

  /**
   * The attempts to store after a look-up of a row that was `prev` answered `outcome`. They
   * count the outages of a pending look-up (its back-off) and then, separately, the daily
   * retries of a "not found": the first "not found" after an outage starts at 0, as one at
   * creation does. Before, a look-up that met DaData down for a few minutes had used up the
   * seven daily retries by the time DaData said "not found", and was never asked again.
   */
  static nextAttempts(prev: LookupStatus, outcome: LookupStatus, attempts: number): number {
    return outcome === 'not_found' && prev !== 'not_found' ? 0 : attempts + 1;
  }

  /**
   * What a look-up still without an answer writes. A daily retry of a "not found" that meets
   * DaData down stays that retry (its status and count kept, asked again after the outage's
   * back-off): turned `pending`, its next "not found" started the seven retries over, and a
   * DaData down once a day kept a row asking for ever.
   */
  static stillWaiting(row: { lookupStatus: LookupStatus; lookupAttempts: number }, outcome: 'pending' | 'not_found', attempts: number) {
    if (row.lookupStatus === 'not_found' && outcome === 'pending') {
      return { ...ContractorsRepository.lookupFields('pending', attempts), lookupStatus: 'not_found' as LookupStatus, lookupAttempts: row.lookupAttempts };
    }
    return ContractorsRepository.lookupFields(outcome, attempts);
  }

  /**
   * `pending` (the provider could not answer): again in 5 s, doubling up to an hour. `not_found`:
   * again in a day, NOT_FOUND_RETRIES times (`attempts` counts them; a company registered minutes
   * before is in the registry a day later), then never.
   */
  static lookupFields(status: LookupStatus, attempts = 0) {
    const backoffMs = Math.min(3_600_000, 5_000 * 2 ** attempts);
    const nextAt =
      status === 'pending' ? new Date(Date.now() + (attempts === 0 ? 0 : backoffMs)) : status === 'not_found' && attempts < NOT_FOUND_RETRIES ? new Date(Date.now() + DAY_MS) : null;
    return { lookupStatus: status, lookupAttempts: attempts, lookupNextAt: nextAt };
  }
}
