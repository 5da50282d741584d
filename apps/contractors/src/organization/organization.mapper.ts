import type { BankAccountSnapshot, OrganizationSnapshot, Suggestion } from '@papka/contracts';
import type { Organization } from './organization.entity';

/** The full snapshot `organization.updated` carries (the public view plus accountId). */
export function toSnapshot(o: Organization): OrganizationSnapshot {
  return {
    accountId: o.accountId,
    inn: o.inn,
    kpp: o.kpp,
    ogrn: o.ogrn,
    name: o.name,
    address: o.address,
    director: o.director,
    directorPost: o.directorPost,
    vatRate: o.vatRate ?? null,
    bankAccounts: o.bankAccounts as BankAccountSnapshot[],
    fullInfo: o.fullInfo as Suggestion | null,
    updatedAt: o.updatedAt.toISOString(),
  };
}
