import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ContractorCreated,
  ContractorDeleted,
  ContractorUpdated,
  innLengthFor,
  toWindow,
  type AddBankAccountDto,
  type AddContactDto,
  type ContractorSnapshot,
  type ContractorView,
  type CreateContractorDto,
  type EventDefinition,
  type ListContractorsQuery,
} from '@papka/contracts';
import { OutboxRelay, writeToOutbox } from '@papka/messaging';
import { isUniqueViolation } from '@papka/persistence';
import { ConflictError, fieldError, Idempotency, NotFoundError, type Created } from '@papka/platform';
import type { AccountContext } from '@papka/auth';
import { ProviderNotConfiguredError, ProviderUnavailableError, type Suggestion } from '../lookup/dadata.client';
import { LookupService } from '../lookup/lookup.service';
import { BankAccount } from './bank-account.entity';
import { Contact } from './contact.entity';
import { Contractor, type LookupStatus } from './contractor.entity';
import { toSnapshot } from './contractor.mapper';
import { ContractorsRepository } from './contractors.repository';

export const DEFAULT_BANK_ACCOUNT_NAME = 'Расчетный счёт';

interface LookupOutcome {
  status: LookupStatus;
  payload: Suggestion | null;
}

/** Contractors, their bank accounts and contacts. Every change emits the full snapshot. */
@Injectable()
export class ContractorsService {
  private readonly logger = new Logger(ContractorsService.name);

  constructor(
    private readonly repo: ContractorsRepository,
    private readonly lookup: LookupService,
    private readonly relay: OutboxRelay,
    private readonly idempotency: Idempotency,
  ) {}

  async list(acc: AccountContext, query: ListContractorsQuery): Promise<ContractorView[]> {
    return this.repo.listViews(acc.accountId, { q: query.q, inn: query.inn }, toWindow(query));
  }

  async get(acc: AccountContext, id: string): Promise<ContractorView> {
    const found = await this.repo.findView(acc.accountId, id);
    if (!found) throw new NotFoundError('contractor');
    return found;
  }

  async create(acc: AccountContext, dto: CreateContractorDto, key?: string): Promise<Created> {
    if (dto.inn && dto.inn.length !== innLengthFor(dto.type)) {
      throw fieldError('inn', `inn must have ${innLengthFor(dto.type)} digits for contractor type ${dto.type}`);
    }
    // Looked up before the transaction: no network wait while holding locks. A provider
    // that is down does not stop the create: fullInfo is filled in later.
    const found = dto.inn ? await this.tryLookup(() => this.lookup.party(dto.inn!)) : { status: 'none' as const, payload: null };
    let created: Created;
    try {
      created = await this.repo.transaction((m) =>
        this.idempotency.run(m, acc.accountId, key, dto, async () => {
          const id = randomUUID();
          await m.insert(Contractor, {
            id,
            accountId: acc.accountId,
            type: dto.type,
            name: dto.name,
            inn: dto.inn ?? null,
            address: dto.address ?? addressOf(found.payload),
            fullInfo: found.payload,
            ...ContractorsRepository.lookupFields(found.status),
          });
          await this.emit(m, ContractorCreated, acc.accountId, id);
          return id;
        }),
      );
    } catch (err) {
      if (isUniqueViolation(err, 'uq_contractor_account_inn')) {
        throw new ConflictError('DUPLICATE_INN', `a contractor with INN ${dto.inn} already exists`, {
          inn: ['a contractor with this INN already exists in this account'],
        });
      }
      throw err;
    }
    this.relay.kick();
    return created;
  }

  async remove(acc: AccountContext, id: string): Promise<void> {
    await this.repo.transaction(async (m) => {
      const c = await this.repo.lock(m, acc.accountId, id);
      if (!c) throw new NotFoundError('contractor');
      const last = await this.repo.find(acc.accountId, id, m);
      await m.delete(Contractor, { id, accountId: acc.accountId });
      await writeToOutbox(m, ContractorDeleted, { accountId: acc.accountId, aggregateId: id, data: toSnapshot(last!) });
    });
    this.relay.kick();
  }

  async addBankAccount(acc: AccountContext, contractorId: string, dto: AddBankAccountDto): Promise<string> {
    await this.get(acc, contractorId); // 404 before calling the provider
    const found = await this.tryLookup(() => this.lookup.bank(dto.bik));
    const id = randomUUID();
    await this.change(acc, contractorId, async (m) => {
      await m.insert(BankAccount, {
        id,
        contractorId,
        accountId: acc.accountId,
        bik: dto.bik,
        number: dto.number,
        name: dto.name || DEFAULT_BANK_ACCOUNT_NAME,
        fullInfo: found.payload,
        ...ContractorsRepository.lookupFields(found.status),
      });
    }).catch((err: unknown) => {
      if (isUniqueViolation(err, 'uq_bank_account_contractor_number')) {
        throw new ConflictError('DUPLICATE_BANK_ACCOUNT', 'this contractor already has this bank account', {
          number: ['this contractor already has this bank account'],
        });
      }
      throw err;
    });
    return id;
  }

  async removeBankAccount(acc: AccountContext, contractorId: string, bankAccountId: string): Promise<void> {
    await this.change(acc, contractorId, async (m) => {
      const res = await m.delete(BankAccount, { id: bankAccountId, contractorId, accountId: acc.accountId });
      if (!res.affected) throw new NotFoundError('bank account');
    });
  }

  async addContact(acc: AccountContext, contractorId: string, dto: AddContactDto): Promise<string> {
    const id = randomUUID();
    await this.change(acc, contractorId, async (m) => {
      await m.insert(Contact, {
        id,
        contractorId,
        accountId: acc.accountId,
        fio: dto.fio,
        phone: dto.phone ?? null,
        post: dto.post ?? null,
        email: dto.email ?? null,
      });
    });
    return id;
  }

  async removeContact(acc: AccountContext, contractorId: string, contactId: string): Promise<void> {
    await this.change(acc, contractorId, async (m) => {
      const res = await m.delete(Contact, { id: contactId, contractorId, accountId: acc.accountId });
      if (!res.affected) throw new NotFoundError('contact');
    });
  }

  /** Fills in a contractor's looked-up details once the provider answers (enrichment). */
  async completeContractorLookup(accountId: string, id: string, outcome: LookupOutcome, attempts: number): Promise<void> {
    await this.repo.transaction(async (m) => {
      const c = await this.repo.lock(m, accountId, id);
      if (!c || c.lookupStatus !== 'pending') return;
      if (outcome.status === 'pending') {
        await m.update(Contractor, { id }, ContractorsRepository.lookupFields('pending', attempts));
        return;
      }
      await m.update(Contractor, { id }, {
        fullInfo: outcome.payload,
        address: c.address ?? addressOf(outcome.payload),
        ...ContractorsRepository.lookupFields(outcome.status),
        updatedAt: new Date(),
      });
      await this.emit(m, ContractorUpdated, accountId, id);
    });
    this.relay.kick();
  }

  /** Same for a bank account. */
  async completeBankLookup(accountId: string, contractorId: string, id: string, outcome: LookupOutcome, attempts: number) {
    await this.repo.transaction(async (m) => {
      const c = await this.repo.lock(m, accountId, contractorId);
      const b = c && (await m.findOneBy(BankAccount, { id, contractorId }));
      if (!b || b.lookupStatus !== 'pending') return;
      if (outcome.status === 'pending') {
        await m.update(BankAccount, { id }, ContractorsRepository.lookupFields('pending', attempts));
        return;
      }
      await m.update(BankAccount, { id }, { fullInfo: outcome.payload, ...ContractorsRepository.lookupFields(outcome.status) });
      await m.update(Contractor, { id: contractorId }, { updatedAt: new Date() });
      await this.emit(m, ContractorUpdated, accountId, contractorId);
    });
    this.relay.kick();
  }

  /** Runs a change to a contractor's children under its row lock and emits `contractor.updated`. */
  private async change(acc: AccountContext, contractorId: string, fn: (m: EntityManager) => Promise<void>) {
    await this.repo.transaction(async (m) => {
      const c = await this.repo.lock(m, acc.accountId, contractorId);
      if (!c) throw new NotFoundError('contractor');
      await fn(m);
      await m.update(Contractor, { id: contractorId }, { updatedAt: new Date() });
      await this.emit(m, ContractorUpdated, acc.accountId, contractorId);
    });
    this.relay.kick();
  }

  private async emit(m: EntityManager, event: EventDefinition<ContractorSnapshot>, accountId: string, id: string) {
    const aggregate = await this.repo.find(accountId, id, m);
    await writeToOutbox(m, event, { accountId, aggregateId: id, data: toSnapshot(aggregate!) });
  }

  async tryLookup(fn: () => Promise<Suggestion | null>): Promise<LookupOutcome> {
    try {
      const payload = await fn();
      return { status: payload ? 'ok' : 'not_found', payload };
    } catch (err) {
      if (err instanceof ProviderNotConfiguredError) return { status: 'none', payload: null };
      if (err instanceof ProviderUnavailableError) {
        this.logger.warn(`look-up deferred: ${err.message}`);
        return { status: 'pending', payload: null };
      }
      throw err;
    }
  }
}

function addressOf(party: Suggestion | null): string | null {
  const address = (party?.data as { address?: { value?: unknown } } | undefined)?.address?.value;
  return typeof address === 'string' ? address : null;
}
