import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  OrganizationUpdated,
  type BankAccountSnapshot,
  type OrganizationView,
  type UpdateOrganizationDto,
} from '@papka/contracts';
import type { AccountContext } from '@papka/auth';
import { Commands } from '@papka/messaging';
import { fieldError, NotFoundError } from '@papka/platform';
import { DEFAULT_BANK_ACCOUNT_NAME, ContractorsService } from '../contractors/contractors.service';
import { LookupService } from '../lookup/lookup.service';
import type { Organization } from './organization.entity';
import { toSnapshot } from './organization.mapper';
import { OrganizationRepository } from './organization.repository';

type PartyData = {
  kpp?: string;
  ogrn?: string;
  address?: { value?: string };
  management?: { name?: string; post?: string };
  fio?: { surname?: string; name?: string; patronymic?: string };
  type?: string;
};

/** The account's own organisation: seller requisites for invoices, filled in from the INN look-up. */
@Injectable()
export class OrganizationService {
  constructor(
    private readonly repo: OrganizationRepository,
    private readonly commands: Commands,
    private readonly lookup: LookupService,
    private readonly contractors: ContractorsService,
  ) {}

  async get(acc: AccountContext): Promise<OrganizationView> {
    const org = await this.repo.find(acc.accountId);
    if (!org) throw new NotFoundError('organization (set it with PUT /v2/docs/organization)');
    return toView(org);
  }

  async update(acc: AccountContext, dto: UpdateOrganizationDto): Promise<OrganizationView> {
    // Look-ups first, outside the transaction; a provider that is down leaves fields as given.
    const party = (await this.contractors.tryLookup(() => this.lookup.party(dto.inn))).payload;
    const data = (party?.data ?? {}) as PartyData;
    const name = dto.name ?? (typeof party?.value === 'string' ? party.value : undefined);
    if (!name) throw fieldError('name', 'name is required when the INN cannot be looked up');
    const bankAccounts: BankAccountSnapshot[] = [];
    for (const b of dto.bankAccounts ?? []) {
      const bank = (await this.contractors.tryLookup(() => this.lookup.bank(b.bik))).payload;
      bankAccounts.push({ id: randomUUID(), bik: b.bik, number: b.number, name: b.name || DEFAULT_BANK_ACCOUNT_NAME, fullInfo: bank });
    }
    const director =
      dto.director ??
      data.management?.name ??
      (data.type === 'INDIVIDUAL' && data.fio ? [data.fio.surname, data.fio.name, data.fio.patronymic].filter(Boolean).join(' ') : undefined);

    const saved = await this.commands.run(acc.accountId, async (t) => {
      const existing = await this.repo.lock(t.manager, acc.accountId);
      const row = await this.repo.save(t.manager, acc.accountId, {
        ...(existing ?? {}),
        inn: dto.inn,
        kpp: dto.kpp ?? data.kpp ?? null,
        ogrn: data.ogrn ?? null,
        name,
        address: dto.address ?? data.address?.value ?? null,
        director: director ?? null,
        directorPost: dto.directorPost ?? data.management?.post ?? (data.type === 'INDIVIDUAL' ? 'Индивидуальный предприниматель' : null),
        bankAccounts: dto.bankAccounts ? bankAccounts : (existing?.bankAccounts ?? []),
        fullInfo: party,
        updatedAt: new Date(),
      });
      await t.emit(OrganizationUpdated, acc.accountId, toSnapshot(row));
      return row;
    });
    return toView(saved);
  }
}

function toView(o: Organization): OrganizationView {
  const { accountId: _accountId, ...view } = toSnapshot(o);
  return view;
}
