import type { BankAccountSnapshot, Suggestion } from '../events/contractors/contractor-snapshot';
import type { VatRateValue } from './organization.dto';

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
  /** Its documents' VAT when they name none; null or absent (events of older versions): the base rate of the date. */
  vatRate?: VatRateValue | null;
  bankAccounts: BankAccountSnapshot[];
  fullInfo: Suggestion | null;
  updatedAt: string;
}
