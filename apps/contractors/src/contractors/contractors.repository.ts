import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { Window } from '@papka/contracts';
import { BankAccount } from './bank-account.entity';
import { Contact } from './contact.entity';
import { Contractor, type LookupStatus } from './contractor.entity';
import type { ContractorAggregate } from './contractor.mapper';

export interface ContractorFilter {
  q?: string;
  inn?: string;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);

/** Every contractor query. Each one filters by account. */
@Injectable()
export class ContractorsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  async list(accountId: string, filter: ContractorFilter, window: Window): Promise<ContractorAggregate[]> {
    const qb = this.ds
      .getRepository(Contractor)
      .createQueryBuilder('c')
      .where('c.account_id = :accountId', { accountId })
      .orderBy('c.created_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .take(window.take)
      .skip(window.skip);
    if (filter.inn) qb.andWhere('c.inn = :inn', { inn: filter.inn });
    if (filter.q) qb.andWhere(`lower(c.name) LIKE :q ESCAPE '\\'`, { q: `%${escapeLike(filter.q.toLowerCase())}%` });
    const contractors = await qb.getMany();
    return this.withChildren(this.ds.manager, contractors);
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

  /** Ids of contractors and bank accounts whose look-up is pending and due (any account). */
  async dueLookups(limit: number) {
    const [contractors, banks] = await Promise.all([
      this.ds.getRepository(Contractor).createQueryBuilder('c')
        .select(['c.id', 'c.accountId', 'c.inn', 'c.lookupAttempts'])
        .where(`c.lookup_status = 'pending' AND c.lookup_next_at <= now()`)
        .orderBy('c.lookup_next_at').limit(limit).getMany(),
      this.ds.getRepository(BankAccount).createQueryBuilder('b')
        .select(['b.id', 'b.accountId', 'b.contractorId', 'b.bik', 'b.lookupAttempts'])
        .where(`b.lookup_status = 'pending' AND b.lookup_next_at <= now()`)
        .orderBy('b.lookup_next_at').limit(limit).getMany(),
    ]);
    return { contractors, banks };
  }

  static lookupFields(status: LookupStatus, attempts = 0) {
    const backoffMs = Math.min(3_600_000, 5_000 * 2 ** attempts);
    return {
      lookupStatus: status,
      lookupAttempts: attempts,
      lookupNextAt: status === 'pending' ? new Date(Date.now() + (attempts === 0 ? 0 : backoffMs)) : null,
    };
  }
}
