import type { BankAccountSnapshot, Suggestion } from '../events/contractors/contractor-snapshot';

/** The account's own organisation: the seller on invoices. */
export interface OrganizationSnapshot {
  accountId: string;
  inn: string;
  kpp: string | null;
  ogrn: string | null;
  name: string;
  address: string | null;
  director: string | null;
  directorPost: string | null;
  bankAccounts: BankAccountSnapshot[];
  fullInfo: Suggestion | null;
  updatedAt: string;
}
