import type { ContractorType } from '../../contractors/contractor-type';

/** Bank object or party object as returned by the DaData-compatible provider. */
export type Suggestion = Record<string, unknown>;

export interface BankAccountSnapshot {
  id: string;
  bik: string;
  number: string;
  name: string;
  fullInfo: Suggestion | null;
}

export interface ContactSnapshot {
  id: string;
  fio: string;
  phone: string | null;
  post: string | null;
  email: string | null;
}

/** The full state of a contractor, carried by every contractor event. */
export interface ContractorSnapshot {
  uuid: string;
  type: ContractorType;
  mainInfo: { name: string; inn: string | null; address: string | null };
  bankInfo: BankAccountSnapshot[];
  contactInfo: ContactSnapshot[];
  fullInfo: Suggestion | null;
  createdAt: string;
  updatedAt: string;
}
