import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  ContractorCreated,
  ContractorDeleted,
  ContractorUpdated,
  innLengthFor,
  ContractorType,
  MAX_BANK_ACCOUNTS_PER_CONTRACTOR,
  MAX_CONTACTS_PER_CONTRACTOR,
  toWindow,
  type AddBankAccountDto,
  type AddContactDto,
  type ContractorSnapshot,
  type ContractorView,
  type CreateContractorDto,
  type EventDefinition,
  type ListContractorsQuery,
} from '@papka/contracts';
import { Commands, type CommandTx } from '@papka/messaging';
import { isUniqueViolation } from '@papka/persistence';
import { DuplicateBankAccountError, DuplicateInnError, fieldError, Idempotency, NotFoundError, type Created } from '@papka/platform';
import type { AccountContext } from '@papka/auth';
import { ProviderNotConfiguredError, ProviderUnavailableError, type Suggestion } from '../lookup/dadata.client';
import { LookupService } from '../lookup/lookup.service';
import type { LookupStatus } from './contractor.entity';
import { ContractorLimitReachedError } from './contractor-limit.error';
import { toSnapshot } from './contractor.mapper';
import { ContractorsRepository } from './contractors.repository';

export const DEFAULT_BANK_ACCOUNT_NAME = 'Расчетный счёт';

export interface LookupOutcome {
  status: LookupStatus;
  payload: Suggestion | null;
}

/**
 * Contractors, their bank accounts and contacts. Every change emits the full snapshot, kept
 * bounded by the per-contractor limits on bank accounts and contacts (checked under the row lock).
 */
@Injectable()
export class ContractorsService {
  private readonly logger = new Logger(ContractorsService.name);

  constructor(
    private readonly repo: ContractorsRepository,
    private readonly lookup: LookupService,
    private readonly commands: Commands,
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
    // A retry of a create that was made gets its answer without asking DaData again.
    const replayed = await this.idempotency.replay(acc.accountId, key, dto);
    if (replayed) return replayed;
    if (dto.inn && dto.inn.length !== innLengthFor(dto.type)) {
      throw fieldError('inn', `inn must have ${innLengthFor(dto.type)} digits for contractor type ${dto.type}`);
    }
    // Looked up before the transaction: no network wait while holding locks. A provider
    // that is down does not stop the create: fullInfo is filled in later.
    // A natural person (type 3) is not in the registries DaData reads: a 12-digit INN there is an
    // entrepreneur's, maybe a closed one of the same person, whose documents would then call the
    // person "Индивидуальный предприниматель" with a dead ОГРНИП. Not looked up.
    const lookedUp = dto.inn && dto.type !== ContractorType.Person;
    const found = lookedUp ? await this.tryLookup(() => this.lookup.party(dto.inn!)) : { status: 'none' as const, payload: null };
    try {
      return await this.commands.run(acc.accountId, (t) =>
        this.idempotency.run(t.manager, acc.accountId, key, dto, async () => {
          const id = randomUUID();
          await this.repo.insert(t.manager, acc.accountId, {
            id,
            type: dto.type,
            name: dto.name,
            inn: dto.inn ?? null,
            address: dto.address ?? addressOf(found.payload),
            fullInfo: found.payload,
            ...ContractorsRepository.lookupFields(found.status),
          });
          await this.emit(t, ContractorCreated, id);
          return id;
        }),
      );
    } catch (err) {
      if (isUniqueViolation(err, 'uq_contractor_account_inn')) {
        throw new DuplicateInnError(dto.inn!);
      }
      throw err;
    }
  }

  async remove(acc: AccountContext, id: string): Promise<void> {
    await this.commands.run(acc.accountId, async (t) => {
      if (!(await this.repo.lock(t.manager, acc.accountId, id))) throw new NotFoundError('contractor');
      const last = await this.repo.find(acc.accountId, id, t.manager);
      await this.repo.delete(t.manager, acc.accountId, id);
      await t.emit(ContractorDeleted, id, toSnapshot(last!));
    });
  }

  async addBankAccount(acc: AccountContext, contractorId: string, dto: AddBankAccountDto): Promise<string> {
    // 404, or 409 at the limit, before calling the provider (the limit is checked again under the lock).
    if ((await this.get(acc, contractorId)).bankInfo.length >= MAX_BANK_ACCOUNTS_PER_CONTRACTOR) {
      throw new ContractorLimitReachedError('bankInfo', MAX_BANK_ACCOUNTS_PER_CONTRACTOR);
    }
    const found = await this.tryLookup(() => this.lookup.bank(dto.bik));
    const id = randomUUID();
    await this.change(acc, contractorId, async (m) => {
      if ((await this.repo.countChildren(m, acc.accountId, contractorId)).bankAccounts >= MAX_BANK_ACCOUNTS_PER_CONTRACTOR) {
        throw new ContractorLimitReachedError('bankInfo', MAX_BANK_ACCOUNTS_PER_CONTRACTOR);
      }
      await this.repo.insertBankAccount(m, acc.accountId, contractorId, {
        id,
        bik: dto.bik,
        number: dto.number,
        name: dto.name || DEFAULT_BANK_ACCOUNT_NAME,
        fullInfo: found.payload,
        ...ContractorsRepository.lookupFields(found.status),
      });
    }).catch((err: unknown) => {
      if (isUniqueViolation(err, 'uq_bank_account_contractor_number')) {
        throw new DuplicateBankAccountError();
      }
      throw err;
    });
    return id;
  }

  async removeBankAccount(acc: AccountContext, contractorId: string, bankAccountId: string): Promise<void> {
    await this.change(acc, contractorId, async (m) => {
      if (!(await this.repo.deleteBankAccount(m, acc.accountId, contractorId, bankAccountId))) throw new NotFoundError('bank account');
    });
  }

  async addContact(acc: AccountContext, contractorId: string, dto: AddContactDto): Promise<string> {
    const id = randomUUID();
    await this.change(acc, contractorId, async (m) => {
      if ((await this.repo.countChildren(m, acc.accountId, contractorId)).contacts >= MAX_CONTACTS_PER_CONTRACTOR) {
        throw new ContractorLimitReachedError('contactInfo', MAX_CONTACTS_PER_CONTRACTOR);
      }
      await this.repo.insertContact(m, acc.accountId, contractorId, {
        id,
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
      if (!(await this.repo.deleteContact(m, acc.accountId, contractorId, contactId))) throw new NotFoundError('contact');
    });
  }

  /** Fills in a contractor's looked-up details once the provider answers (enrichment). */
  async completeContractorLookup(accountId: string, id: string, outcome: LookupOutcome, attempts: number): Promise<void> {
    await this.commands.run(accountId, async (t) => {
      const c = await this.repo.lock(t.manager, accountId, id);
      if (!c || (c.lookupStatus !== 'pending' && c.lookupStatus !== 'not_found')) return;
      // Still not there (or the provider down): only when to ask again changes, nothing to announce.
      if (outcome.status === 'pending' || outcome.status === 'not_found') {
        await this.repo.updateLookup(t.manager, accountId, id, ContractorsRepository.stillWaiting(c, outcome.status, attempts));
        return;
      }
      await this.repo.updateLookup(t.manager, accountId, id, {
        fullInfo: outcome.payload,
        address: c.address ?? addressOf(outcome.payload),
        ...ContractorsRepository.lookupFields(outcome.status),
        updatedAt: new Date(),
      });
      await this.emit(t, ContractorUpdated, id);
    });
  }

  /** Same for a bank account. */
  async completeBankLookup(accountId: string, contractorId: string, id: string, outcome: LookupOutcome, attempts: number) {
    await this.commands.run(accountId, async (t) => {
      const c = await this.repo.lock(t.manager, accountId, contractorId);
      const b = c && (await this.repo.findBankAccount(t.manager, accountId, contractorId, id));
      if (!b || (b.lookupStatus !== 'pending' && b.lookupStatus !== 'not_found')) return;
      if (outcome.status === 'pending' || outcome.status === 'not_found') {
        await this.repo.updateBankLookup(t.manager, accountId, id, ContractorsRepository.stillWaiting(b, outcome.status, attempts));
        return;
      }
      await this.repo.updateBankLookup(t.manager, accountId, id, { fullInfo: outcome.payload, ...ContractorsRepository.lookupFields(outcome.status) });
      await this.repo.touch(t.manager, accountId, contractorId);
      await this.emit(t, ContractorUpdated, contractorId);
    });
  }

  /** Runs a change to a contractor's children under its row lock and emits `contractor.updated`. */
  private async change(acc: AccountContext, contractorId: string, fn: (m: CommandTx['manager']) => Promise<void>) {
    await this.commands.run(acc.accountId, async (t) => {
      if (!(await this.repo.lock(t.manager, acc.accountId, contractorId))) throw new NotFoundError('contractor');
      await fn(t.manager);
      await this.repo.touch(t.manager, acc.accountId, contractorId);
      await this.emit(t, ContractorUpdated, contractorId);
    });
  }

  /** The event with the contractor's current snapshot, read inside the command. */
  private async emit(t: CommandTx, event: EventDefinition<ContractorSnapshot>, id: string) {
    const aggregate = await this.repo.find(t.accountId, id, t.manager);
    await t.emit(event, id, toSnapshot(aggregate!));
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
