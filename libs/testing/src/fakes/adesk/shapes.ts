// Objects as Adesk answers them (002's examples): sums as strings, dates in several shapes.

import type { AdeskCategory, AdeskContractor, AdeskLegalEntity, AdeskRequisites, AdeskTransaction } from '../adesk';
import { rubles, ruDate, ruDateTime, toKopecks } from './format';
import type { AccountState, BankAccountRow, Json, ProjectRow } from './state';

export function legalEntityJson(e: AdeskLegalEntity): Json {
  return { id: e.id, name: e.name, fullName: e.name, inn: e.inn ?? '', kpp: e.kpp ?? '', registrationNumber: '', address: '', phoneNumber: '' };
}

/** A bank account's balance; one scan per change (see {@link AccountState.balances}), not one per object answered. */
export function balanceKopecks(acct: AccountState, b: BankAccountRow): number {
  if (!acct.balances) {
    acct.balances = new Map();
    for (const t of acct.transactionRows.values()) {
      if (t.isPlanned) continue;
      const k = (t.type === 'income' ? 1 : -1) * (toKopecks(t.amount) ?? 0);
      acct.balances.set(t.bankAccountId, (acct.balances.get(t.bankAccountId) ?? 0) + k);
    }
  }
  return (toKopecks(b.initialAmount) ?? 0) + (acct.balances.get(b.id) ?? 0);
}

export function bankAccountJson(acct: AccountState, b: BankAccountRow): Json {
  const entity = acct.legalEntityRows.get(b.legalEntityId);
  return {
    id: b.id,
    number: b.number,
    name: b.name,
    bankName: b.bankName,
    bankCode: b.bankCode,
    created: ruDateTime(b.created),
    currency: b.currency,
    type: b.type,
    status: b.status,
    initialAmountDate: ruDate(b.created.toISOString().slice(0, 10)),
    initialAmount: b.initialAmount,
    amount: rubles(balanceKopecks(acct, b)),
    legalEntity: entity ? { id: entity.id, name: entity.name } : null,
  };
}

export function categoryJson(c: AdeskCategory): Json {
  return { id: c.id, name: c.name, type: c.type, kind: 1, isOwnerTransfer: false, isSystem: false, group: c.type, isArchived: false };
}

/** 002 L1895-1902: the contractor object has no `description`, though a create takes one (L2038). */
export function contractorJson(c: AdeskContractor): Json {
  return { id: c.id, name: c.name, contactPerson: c.contactPerson, phoneNumber: c.phoneNumber, email: c.email, balance: 0 };
}

export function requisitesJson(r: AdeskRequisites): Json {
  return {
    id: r.id,
    name: r.name,
    inn: r.inn,
    kpp: r.kpp,
    correspondentAccount: r.correspondentAccount,
    bankName: r.bankName,
    bankAccountNumber: r.bankAccountNumber,
    bankCode: r.bankCode,
    address: r.address,
    phoneNumber: '',
    email: '',
    website: '',
  };
}

export function projectJson(acct: AccountState, p: ProjectRow): Json {
  let income = 0;
  let outcome = 0;
  for (const t of acct.transactionRows.values()) {
    if (t.projectId !== p.id) continue;
    if (t.type === 'income') income += toKopecks(t.amount) ?? 0;
    else outcome += toKopecks(t.amount) ?? 0;
  }
  const contractor = p.dealContractorId === null ? undefined : acct.contractorRows.get(p.dealContractorId);
  const entity = p.dealLegalEntityId === null ? undefined : acct.legalEntityRows.get(p.dealLegalEntityId);
  return {
    id: p.id,
    type: p.type,
    name: p.name,
    description: p.description,
    created: p.created,
    income: rubles(income),
    outcome: rubles(outcome),
    grossProfit: rubles(income - outcome),
    profitability: income === 0 ? 0 : Math.round(((income - outcome) / income) * 100),
    isArchived: p.isArchived,
    planIncome: p.planIncome,
    planOutcome: p.planOutcome,
    category: null,
    manager: null,
    deal_contractor: contractor ? { id: contractor.id, name: contractor.name } : null,
    deal_legal_entity: entity ? { id: entity.id, name: entity.name } : null,
  };
}

/**
 * A transaction as the v1 GETs (`withImportedId: false`) and the v2 bulk answers (`true`) give it:
 * type as 1/2, the amount as a string, `date` as dd.MM.yyyy beside `dateIso`. The v1 shape also
 * carries the bank account's `bankCode` as a Number, as 002's object example shows (L1064).
 */
export function transactionJson(acct: AccountState, t: AdeskTransaction, withImportedId: boolean): Json {
  const b = acct.bankAccountRows.get(t.bankAccountId);
  const entity = b ? acct.legalEntityRows.get(b.legalEntityId) : undefined;
  const category = t.categoryId === null ? undefined : acct.categoryRows.get(t.categoryId);
  const contractor = t.contractorId === null ? undefined : acct.contractorRows.get(t.contractorId);
  const project = t.projectId === null ? undefined : acct.projectRows.get(t.projectId);
  const related = t.relatedDate ?? t.date;
  const out: Json = {
    id: t.id,
    type: t.type === 'income' ? 1 : 2,
    amount: t.amount,
    isSplitted: false,
    splitId: null,
    date: ruDate(t.date),
    dateFormatted: ruDate(t.date),
    dateIso: t.date,
    relatedDate: ruDate(related),
    relatedDateIso: related,
    bankAccount: b
      ? {
          id: b.id,
          name: b.name,
          bankName: b.bankName,
          currency: b.currency,
          rate: 1.0,
          status: b.status,
          legalEntity: entity ? { id: entity.id, name: entity.name } : null,
          amount: rubles(balanceKopecks(acct, b)),
          ...(withImportedId ? {} : { number: b.number, bankCode: Number(b.bankCode) }),
        }
      : null,
    description: t.description === '' ? null : t.description,
    hasAccrual: t.relatedDate !== null,
    confirmAccrual: true,
    isPlanned: t.isPlanned,
    isReadyToBeConfirmed: false,
    isReadyToConfirmAccrual: null,
    isPeriodic: false,
    periodicChain: null,
    period: null,
    isCommitment: null,
    isTransfer: null,
    isAvailable: true,
    hasAttachments: false,
    exchangeRate: 1.0,
    repetitionEndDate: null,
    bankAccountAmount: '0',
    tags: [],
    transferId: null,
    pairedTransactionId: null,
    pairTransferTransaction: null,
    category: category ? { id: category.id, name: category.name, type: category.type, kind: 1, isOwnerTransfer: false, isSystem: false } : null,
    project: project ? { id: project.id, name: project.name, isFinished: false, category: null } : null,
    contractor: contractor
      ? { id: contractor.id, name: contractor.name, contactPerson: contractor.contactPerson, phoneNumber: contractor.phoneNumber, email: contractor.email }
      : null,
    businessUnit: null,
  };
  if (withImportedId) out.importedId = t.importedId;
  return out;
}

/** The webhook's transaction object (002 L4373-4434): ISO dates, requisites on the contractor, no importedId. */
export function webhookTransaction(acct: AccountState, t: AdeskTransaction): Json {
  const b = acct.bankAccountRows.get(t.bankAccountId);
  const entity = b ? acct.legalEntityRows.get(b.legalEntityId) : undefined;
  const category = t.categoryId === null ? undefined : acct.categoryRows.get(t.categoryId);
  const contractor = t.contractorId === null ? undefined : acct.contractorRows.get(t.contractorId);
  const project = t.projectId === null ? undefined : acct.projectRows.get(t.projectId);
  return {
    id: t.id,
    type: t.type === 'income' ? 1 : 2,
    amount: t.amount,
    description: t.description,
    date: t.date,
    relatedDate: t.relatedDate ?? t.date,
    confirmAccrual: true,
    isCommitment: false,
    isPlanned: t.isPlanned,
    isSplitted: false,
    isTransfer: false,
    bankAccount: b
      ? {
          id: b.id,
          type: b.type === 'Cash' ? 1 : 2,
          name: b.name,
          bankCode: b.bankCode,
          bankName: b.bankName,
          number: b.number,
          correspondentAccount: '',
          currency: b.currency,
          legalEntity: entity ? legalEntityJson(entity) : null,
        }
      : null,
    category: category
      ? { id: category.id, name: category.name, type: category.type, isArchived: false, group: { id: category.type, name: category.type === 1 ? 'Доходы' : 'Расходы', type: category.type } }
      : null,
    contractor: contractor
      ? {
          id: contractor.id,
          name: contractor.name,
          canonicalName: contractor.name.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ''),
          requisites: [...acct.requisitesRows.values()]
            .filter((r) => r.contractorId === contractor.id)
            .map((r) => ({ id: r.id, inn: r.inn, kpp: r.kpp, name: r.name })),
        }
      : null,
    project: project ? { id: project.id, name: project.name } : null,
  };
}

