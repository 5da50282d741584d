import type { ContractorSnapshot, Suggestion } from '@papka/contracts';
import type { BankAccount, Contact, Contractor } from './contractor.entity';

export interface ContractorAggregate {
  contractor: Contractor;
  bankAccounts: BankAccount[];
  contacts: Contact[];
}

/** The full snapshot carried by events (the public view plus updatedAt). */
export function toSnapshot({ contractor: c, bankAccounts, contacts }: ContractorAggregate): ContractorSnapshot {
  return {
    uuid: c.id,
    type: c.type,
    mainInfo: { name: c.name, inn: c.inn, address: c.address },
    bankInfo: bankAccounts.map((b) => ({ id: b.id, bik: b.bik, number: b.number, name: b.name, fullInfo: b.fullInfo as Suggestion | null })),
    contactInfo: contacts.map((k) => ({ id: k.id, fio: k.fio, phone: k.phone, post: k.post, email: k.email })),
    fullInfo: c.fullInfo as Suggestion | null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
