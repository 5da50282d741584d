import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  OrganizationUpdated,
  type BankAccountSnapshot,
  type OrganizationView,
  type UpdateOrganizationDto,
} from '@papka/contracts';
import type { AccountContext } from '@papka/auth';
import { Commands } from '@papka/messaging';
import { ConflictError, fieldError, NotFoundError } from '@papka/platform';
import { LOOKUP_FAILURE_BACKOFF_MS, LOOKUP_LEASE_MS } from '../contractors/contractor-enrichment.worker';
import { ContractorsRepository } from '../contractors/contractors.repository';
import { DEFAULT_BANK_ACCOUNT_NAME, ContractorsService, type LookupOutcome } from '../contractors/contractors.service';
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
  private readonly logger = new Logger(OrganizationService.name);

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

  /**
   * One pass of the enrichment worker over organisations saved while the provider was down: looks
   * up what is still missing (the party, bank accounts without their bank's details) and fills in
   * only what is empty, never a value the user gave. False when the provider could not answer one:
   * the pass ends there, that organisation is backed off, and the others claimed are handed back.
   * The due ones are claimed first (leased), so another replica's pass does not look them up too;
   * one that fails with an error not the provider's is logged, backed off and skipped (before, it
   * ended every pass, first in line).
   */
  async retryDueLookups(limit = 20): Promise<boolean> {
    const claimed = await this.repo.claimDueLookupsAllAccounts(limit, LOOKUP_LEASE_MS);
    for (const [i, { org }] of claimed.entries()) {
      let answered: boolean;
      try {
        answered = await this.completeLookups(org);
      } catch (err) {
        this.logger.error(`organization of ${org.accountId} look-up failed, retried in ${LOOKUP_FAILURE_BACKOFF_MS / 60_000} min: ${(err as Error).message}`);
        await this.repo.backOffLookup(org.accountId, LOOKUP_FAILURE_BACKOFF_MS).catch((e: Error) => this.logger.warn(`organization of ${org.accountId} not backed off: ${e.message}`));
        continue;
      }
      if (!answered) {
        await this.repo.releaseClaims(claimed.slice(i + 1));
        return false;
      }
    }
    return true;
  }

  private async completeLookups(org: Organization): Promise<boolean> {
    let answered = true;
    const party = org.fullInfo ? null : await this.contractors.tryLookup(() => this.lookup.party(org.inn));
    if (party?.status === 'pending') answered = false;
    const banks = new Map<string, Suggestion | null>();
    for (const b of answered ? (org.bankAccounts as BankAccountSnapshot[]) : []) {
      if (b.fullInfo || banks.has(b.bik)) continue;
      const found = await this.contractors.tryLookup(() => this.lookup.bank(b.bik));
      if (found.status === 'pending') {
        answered = false;
        break;
      }
      banks.set(b.bik, found.payload);
    }
    await this.commands.run(org.accountId, async (t) => {
      const row = await this.repo.lock(t.manager, org.accountId);
      // Saved again since (a PUT looks up for itself): nothing of this pass applies to it.
      if (!row || row.lookupStatus !== 'pending' || row.receivedAt?.getTime() !== org.receivedAt?.getTime()) return;
      const found = party?.status === 'ok' ? party.payload : null;
      const data = (found?.data ?? {}) as PartyData;
      const stored = row.bankAccounts as BankAccountSnapshot[];
      const bankAccounts = stored.map((b) => (b.fullInfo ? b : { ...b, fullInfo: banks.get(b.bik) ?? null }));
      const changed = found !== null || bankAccounts.some((b, i) => b.fullInfo !== stored[i]!.fullInfo);
      const saved = await this.repo.save(t.manager, org.accountId, {
        ...row,
        kpp: row.kpp ?? data.kpp ?? null,
        ogrn: row.ogrn ?? data.ogrn ?? null,
        address: row.address ?? data.address?.value ?? null,
        director: row.director ?? directorOf(data),
        directorPost: row.directorPost ?? directorPostOf(data),
        fullInfo: row.fullInfo ?? found,
        bankAccounts,
        ...ContractorsRepository.lookupFields(answered ? 'ok' : 'pending', row.lookupAttempts + 1),
        updatedAt: changed ? new Date() : row.updatedAt,
      });
      if (changed) await t.emit(OrganizationUpdated, org.accountId, toSnapshot(saved));
    });
    return answered;
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
    // Each BIK once, one after another; once the provider could not answer (down, 429), the rest
    // are deferred to the enrichment worker without a call: 20 accounts used to be 21 calls of up
    // to DADATA_TIMEOUT_MS each, past the gateway's timeout (a 504 for a PUT that was then saved).
    // With the party's look-up failed the first bank's is still made (a cached BIK answers).
    const byBik = new Map<string, LookupOutcome>();
    // (Not set by the party's failure: a BIK already cached is still answered from the cache.)
    let deferRest = false;
    for (const b of dto.bankAccounts ?? []) {
      let found = byBik.get(b.bik);
      if (!found) {
        found = deferRest ? { status: 'pending', payload: null } : await this.contractors.tryLookup(() => this.lookup.bank(b.bik));
        if (found.status === 'pending') deferRest = true;
        byBik.set(b.bik, found);
      }
      banks.push({ dto: b, fullInfo: found.payload, deferred: found.status === 'pending' });
    }
    const director = dto.director ?? directorOf(data);
    const directorPost = dto.directorPost ?? directorPostOf(data);

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
      const fullInfo = party ?? kept?.fullInfo ?? null;
      const savedBanks = dto.bankAccounts ? bankAccounts : ((existing?.bankAccounts ?? []) as BankAccountSnapshot[]);
      // A look-up the provider could not answer is retried by the enrichment worker (a kept
      // account without its bank's details too: it may have been saved during an outage).
      const waiting =
        (partyLookup.status === 'pending' && !fullInfo) ||
        (dto.bankAccounts ? bankAccounts.some((b, i) => banks[i]!.deferred && !b.fullInfo) : savedBanks.some((b) => !b.fullInfo));
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
        bankAccounts: savedBanks,
        fullInfo,
        ...ContractorsRepository.lookupFields(waiting ? 'pending' : 'ok'),
        receivedAt,
        updatedAt: new Date(),
      });
      await t.emit(OrganizationUpdated, acc.accountId, toSnapshot(row));
      return row;
    });
    return toView(saved);
  }
}

function directorOf(data: PartyData): string | null {
  if (data.management?.name) return data.management.name;
  return data.type === 'INDIVIDUAL' && data.fio ? [data.fio.surname, data.fio.name, data.fio.patronymic].filter(Boolean).join(' ') : null;
}

function directorPostOf(data: PartyData): string | null {
  return data.management?.post ?? (data.type === 'INDIVIDUAL' ? 'Индивидуальный предприниматель' : null);
}

function toView(o: Organization): OrganizationView {
  const { accountId: _accountId, ...view } = toSnapshot(o);
  return { ...view, vatRate: view.vatRate ?? null };
}
