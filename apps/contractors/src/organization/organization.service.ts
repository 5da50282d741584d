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
import { ConflictError, fieldError, NotFoundError } from '@papka/platform';
import { DEFAULT_BANK_ACCOUNT_NAME, ContractorsService } from '../contractors/contractors.service';
import type { Suggestion } from '../lookup/dadata.client';
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

/** A PUT of the organisation received after this one was saved while this one was looking its INN and BIKs up. */
export class OrganizationChangedError extends ConflictError {
  constructor() {
    super('ORGANIZATION_CHANGED', 'a later PUT of the organization was saved while this one was being looked up; GET it and send this one again if it still applies');
  }
}

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
    // Its look-ups take time (seconds when DaData is slow), and a PUT sent after this one may be
    // saved meanwhile: saving this one then would put back what the user had just corrected, so
    // it is refused instead (409). The later one wins whichever look-up ends first.
    const receivedAt = new Date();
    // Look-ups first, outside the transaction. A provider that is down leaves what was looked up
    // before for the same INN (or BIK) as it was: saving during an outage used to erase the KPP,
    // OGRN, address and director of the stored organisation, and nothing filled them in again.
    const partyLookup = await this.contractors.tryLookup(() => this.lookup.party(dto.inn));
    const party = partyLookup.payload;
    const data = (party?.data ?? {}) as PartyData;
    const banks: { dto: NonNullable<UpdateOrganizationDto['bankAccounts']>[number]; fullInfo: Suggestion | null; deferred: boolean }[] = [];
    for (const b of dto.bankAccounts ?? []) {
      const found = await this.contractors.tryLookup(() => this.lookup.bank(b.bik));
      banks.push({ dto: b, fullInfo: found.payload, deferred: found.status === 'pending' });
    }
    const director =
      dto.director ??
      data.management?.name ??
      (data.type === 'INDIVIDUAL' && data.fio ? [data.fio.surname, data.fio.name, data.fio.patronymic].filter(Boolean).join(' ') : undefined);
    const directorPost = dto.directorPost ?? data.management?.post ?? (data.type === 'INDIVIDUAL' ? 'Индивидуальный предприниматель' : undefined);

    const saved = await this.commands.run(acc.accountId, async (t) => {
      const existing = await this.repo.lock(t.manager, acc.accountId);
      if (existing?.receivedAt && existing.receivedAt > receivedAt) throw new OrganizationChangedError();
      // What the last successful look-up gave, while this one could not be made.
      const kept = partyLookup.status === 'pending' && existing?.inn === dto.inn ? existing : null;
      const name = dto.name ?? (typeof party?.value === 'string' ? party.value : undefined) ?? kept?.name;
      if (!name) throw fieldError('name', 'name is required when the INN cannot be looked up');
      const stored = (existing?.bankAccounts ?? []) as BankAccountSnapshot[];
      const bankInfo = (bik: string) => stored.find((a) => a.bik === bik)?.fullInfo ?? null;
      const bankAccounts: BankAccountSnapshot[] = banks.map(({ dto: b, fullInfo, deferred }) => ({
        id: randomUUID(),
        bik: b.bik,
        number: b.number,
        name: b.name || DEFAULT_BANK_ACCOUNT_NAME,
        fullInfo: fullInfo ?? (deferred ? bankInfo(b.bik) : null),
      }));
      const row = await this.repo.save(t.manager, acc.accountId, {
        ...(existing ?? {}),
        inn: dto.inn,
        kpp: dto.kpp ?? data.kpp ?? kept?.kpp ?? null,
        ogrn: data.ogrn ?? kept?.ogrn ?? null,
        name,
        address: dto.address ?? data.address?.value ?? kept?.address ?? null,
        director: director ?? kept?.director ?? null,
        directorPost: directorPost ?? kept?.directorPost ?? null,
        // Omitted: as it was (as the bank accounts); null: back to the base rate of each date.
        vatRate: dto.vatRate !== undefined ? dto.vatRate : (existing?.vatRate ?? null),
        bankAccounts: dto.bankAccounts ? bankAccounts : (existing?.bankAccounts ?? []),
        fullInfo: party ?? kept?.fullInfo ?? null,
        receivedAt,
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
  return { ...view, vatRate: view.vatRate ?? null };
}
