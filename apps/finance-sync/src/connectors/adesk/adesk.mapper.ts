/** Papka entities to Adesk bodies and back (002 §Контрагенты, §Реквизиты, §Проекты, §Операции). Pure. */
import type { PaymentType } from '@papka/contracts';
import { kopecksToRubles } from '@papka/ru';
import { decimalToKopecks, marker, markerOf, type ContractorBankData, type ContractorData, type InteractionData, type PaymentData, type RemotePayment } from '../connector';

/** `papka:<conn8>:<payment uuid>`: cannot collide with Adesk's own `adesk:<uuid>` (002 L1261), ≤ 100 characters. */
export const importedIdOf = (connectionTag: string, paymentId: string): string => `papka:${connectionTag}:${paymentId}`;

const cut = (s: string, max: number): string => (s.length <= max ? s : s.slice(0, max));

/** `text` cut so that ` [papka:<uuid>]` always fits in `max`. */
const withMarker = (text: string, id: string, max: number): string => {
  const m = marker(id);
  return `${cut(text, max - m.length - 1)} ${m}`.trim();
};

export function contractorForm(c: Pick<ContractorData, 'id' | 'name'>): Record<string, string> {
  return { name: cut(c.name, 210), description: marker(c.id) };
}

/** One requisites object per bank account (each holds one); INN, KPP, BIK and number as strings. */
export function requisitesForm(remoteContractorId: string, c: Pick<ContractorData, 'id' | 'name' | 'inn' | 'kpp' | 'address' | 'banks'>, bank: ContractorBankData | null): Record<string, string> {
  const form: Record<string, string> = { contractor: remoteContractorId, name: cut(c.name, 255) };
  if (c.inn) form.inn = c.inn;
  if (c.kpp) form.kpp = c.kpp;
  if (c.address) form.address = cut(c.address, 100);
  if (bank) {
    form.bank_account_number = bank.number;
    form.bank_code = bank.bik;
    if (bank.name) form.bank_name = cut(bank.name, 210);
  }
  return form;
}

/** What of an interaction a deal holds; its contractor is mapped (the engine parks it until then). */
export function projectForm(i: Pick<InteractionData, 'id' | 'name' | 'sum' | 'contractorRemoteId'>): Record<string, string> {
  return {
    name: cut(i.name, 210),
    type: 'deal',
    description: marker(i.id),
    // Form bodies carry the number as text: "1500.5" parses back to exactly 150050 kopecks.
    plan_income: String(kopecksToRubles(i.sum)),
    deal_contractor: i.contractorRemoteId ?? '',
  };
}

export interface TransactionSettings {
  bankAccountId: number;
  incomeCategoryId?: number;
  outcomeCategoryId?: number;
}

/** What of a payment a transaction holds; its contractor and deal are mapped (the engine parks it until then). */
export function transactionItem(p: Pick<PaymentData, 'id' | 'type' | 'name' | 'sum' | 'date' | 'contractorRemoteId' | 'projectRemoteId'>, s: TransactionSettings, connectionTag: string): Record<string, unknown> {
  const categoryId = p.type === 'income' ? s.incomeCategoryId : s.outcomeCategoryId;
  return {
    type: p.type,
    bankAccountId: s.bankAccountId,
    amount: kopecksToRubles(p.sum),
    date: p.date,
    description: withMarker(p.name, p.id, 510),
    contractorId: Number(p.contractorRemoteId),
    projectId: Number(p.projectRemoteId),
    importedId: importedIdOf(connectionTag, p.id),
    ...(categoryId ? { categoryId } : {}),
  };
}

/** Adesk numbers types 1 (income) / 2 (outcome) in objects and takes words in requests. */
const typeOf = (t: unknown): PaymentType => (t === 2 || t === '2' || t === 'outcome' ? 'outcome' : 'income');

const idOf = (o: unknown): string | null => {
  if (o === null || o === undefined) return null;
  if (typeof o === 'object') return idOf((o as { id?: unknown }).id);
  return String(o);
};

/** dateIso `2025-07-01` or `2018.12.20`, date `01.07.2025` or ISO: always YYYY-MM-DD. */
export function isoDate(t: Record<string, unknown>): string {
  for (const v of [t.dateIso, t.date]) {
    if (typeof v !== 'string') continue;
    let m = /^(\d{4})[-.](\d{2})[-.](\d{2})/.exec(v);
    if (m) return `${m[1]}-${m[2]}-${m[3]}`;
    m = /^(\d{2})\.(\d{2})\.(\d{4})/.exec(v);
    if (m) return `${m[3]}-${m[2]}-${m[1]}`;
  }
  return '';
}

export function remotePayment(t: Record<string, unknown>, connectionTag: string): RemotePayment {
  const description = typeof t.description === 'string' ? t.description : '';
  const imported = typeof t.importedId === 'string' ? t.importedId : '';
  const prefix = `papka:${connectionTag}:`;
  const fromImported = imported.startsWith(prefix) ? imported.slice(prefix.length).toLowerCase() : null;
  return {
    remoteId: String(t.id),
    entityId: fromImported ?? markerOf(description),
    type: typeOf(t.type),
    sum: decimalToKopecks(t.amount),
    date: isoDate(t),
    projectRemoteId: idOf(t.project ?? t.projectId),
    contractorRemoteId: idOf(t.contractor ?? t.contractorId),
    description,
  };
}
