// The Adesk methods the fake serves: request parsing, validation and the route table.

import { randomUUID } from 'node:crypto';
import type { AdeskContractor, AdeskProject, AdeskRequisites, AdeskTransaction, AdeskWebhook, FakeAdeskOptions } from '../adesk';
import { isIsoDate, namedRange, rubles, ruDate, toKopecks } from './format';
import {
  bankAccountJson,
  categoryJson,
  contractorJson,
  legalEntityJson,
  projectJson,
  requisitesJson,
  transactionJson,
  webhookTransaction,
} from './shapes';
import { AdeskFailure, maxLen, REQUIRED, v1Invalid, v1NotFound, v2Fail, type AccountState, type BankAccountRow, type Ids, type Json, type ProjectRow } from './state';
import type { WebhookTarget } from './webhook-sender';

const WEBHOOK_EVENTS = new Set([
  'transaction.created',
  'transaction.updated',
  'transaction.deleted',
  'transaction.confirmed',
  'commitment.created',
  'commitment.deleted',
  'contractor.created',
  'contractor.deleted',
  'project.created',
  'project.deleted',
  'project.finished',
  'payment-request.created',
  'payment-request.approved',
  'payment-request.paid',
]);


/** Values of a form array field in any of the usual encodings: `f=a&f=b`, `f[]=a`, `f[0]=a`, `f=a,b`. */
function formArray(form: URLSearchParams, name: string): string[] | undefined {
  const values: string[] = [];
  let present = false;
  for (const [k, v] of form) {
    if (k === name || k === `${name}[]` || new RegExp(`^${name}\\[\\d+\\]$`).test(k)) {
      present = true;
      values.push(...v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
    }
  }
  return present ? values : undefined;
}

/** Absent: undefined; empty (clears the field on update, 002 L2064): null; else an integer id or a validation error. */
function formId(form: URLSearchParams, name: string): number | null | undefined {
  const v = form.get(name);
  if (v === null) return undefined;
  if (v.trim() === '') return null;
  if (!/^\d+$/.test(v.trim())) throw v1Invalid(name, 'Введите целое число.');
  return Number(v.trim());
}

function formText(form: URLSearchParams, name: string, max?: number): string | undefined {
  const v = form.get(name);
  if (v === null) return undefined;
  if (max !== undefined && v.length > max) throw v1Invalid(name, maxLen(max));
  return v;
}

function formRequired(form: URLSearchParams, name: string, max?: number): string {
  const v = formText(form, name, max);
  if (v === undefined || v.trim() === '') throw v1Invalid(name);
  return v;
}

function formBool(form: URLSearchParams, name: string): boolean | undefined {
  const v = form.get(name);
  return v === null ? undefined : v === 'true' || v === '1';
}

function formRubles(form: URLSearchParams, name: string): string | undefined {
  const v = form.get(name);
  if (v === null) return undefined;
  if (v.trim() === '') return '0.00';
  const k = toKopecks(v);
  if (k === null) throw v1Invalid(name, 'Введите число.');
  return rubles(k);
}

function paging<T>(rows: T[], q: URLSearchParams): T[] {
  const start = Math.max(0, Number(q.get('start') ?? 0) || 0);
  const length = q.get('length');
  return length === null ? rows.slice(start) : rows.slice(start, start + Math.max(0, Number(length) || 0));
}

/** 002's list envelope. Note its own reading of the counters: recordsTotal is the page, recordsFiltered all matches. */
function list(key: string, page: Json[], filtered: number): Json {
  return { success: true, recordsTotal: page.length, recordsFiltered: filtered, [key]: page };
}

// ----- Routes -----------------------------------------------------------------------------------

export interface Ctx {
  acct: AccountState;
  query: URLSearchParams;
  form: URLSearchParams;
  json: unknown;
  id: number;
  /** Marks the call as having changed state (for commit-then-drop and the call log). */
  commit(): void;
  /** Sends a webhook event once the call has committed. */
  event(type: string, data: Json[]): void;
}

export interface Route {
  method: 'GET' | 'POST';
  /** `:id` stands for a numeric id. */
  pattern: string;
  v2?: boolean;
  /** Changes state when it succeeds (eligible for commit-then-drop and 5xx-after). */
  write?: boolean;
  handle(ctx: Ctx): Json;
}

function need<T>(rows: Map<number, T>, id: number | null | undefined, what: string, field?: string): T {
  const row = id === null || id === undefined ? undefined : rows.get(id);
  if (row) return row;
  throw field ? v1Invalid(field, `${what} not found`) : v1NotFound(what);
}

function applyContractor(c: AdeskContractor, f: URLSearchParams): void {
  c.contactPerson = formText(f, 'contact_person') ?? c.contactPerson;
  c.phoneNumber = formText(f, 'phone_number') ?? c.phoneNumber;
  c.email = formText(f, 'email') ?? c.email;
  c.description = formText(f, 'description') ?? c.description;
}

function requisitesFields(f: URLSearchParams, acct: AccountState): Omit<AdeskRequisites, 'id'> {
  const contractorId = formId(f, 'contractor');
  if (contractorId === undefined || contractorId === null) throw v1Invalid('contractor');
  need(acct.contractorRows, contractorId, 'Contractor', 'contractor');
  return {
    contractorId,
    name: formRequired(f, 'name', 255),
    inn: formText(f, 'inn', 20) ?? '',
    kpp: formText(f, 'kpp', 12) ?? '',
    bankAccountNumber: formText(f, 'bank_account_number', 30) ?? '',
    bankCode: formText(f, 'bank_code', 15) ?? '',
    bankName: formText(f, 'bank_name', 210) ?? '',
    address: formText(f, 'address', 100) ?? '',
    correspondentAccount: formText(f, 'correspondent_account', 64) ?? '',
  };
}

const PROJECT_TYPES = new Set(['project', 'deal', 'product_deal']);

function applyProject(p: ProjectRow, f: URLSearchParams, acct: AccountState): void {
  const type = formText(f, 'type');
  if (type !== undefined && type !== '') {
    if (!PROJECT_TYPES.has(type)) throw v1Invalid('type', 'Выберите корректный вариант.');
    p.type = type as AdeskProject['type'];
  }
  p.description = formText(f, 'description') ?? p.description;
  p.isArchived = formBool(f, 'is_archived') ?? p.isArchived;
  p.planIncome = formRubles(f, 'plan_income') ?? p.planIncome;
  p.planOutcome = formRubles(f, 'plan_outcome') ?? p.planOutcome;
  const dealContractor = formId(f, 'deal_contractor');
  const dealEntity = formId(f, 'deal_legal_entity');
  // 002: the deal fields "apply only if the project type is deal or product_deal".
  const isDeal = p.type !== 'project';
  if (dealContractor !== undefined && isDeal) {
    if (dealContractor !== null) need(acct.contractorRows, dealContractor, 'Contractor', 'deal_contractor');
    p.dealContractorId = dealContractor;
  }
  if (dealEntity !== undefined && isDeal) {
    if (dealEntity !== null) need(acct.legalEntityRows, dealEntity, 'Legal entity', 'deal_legal_entity');
    p.dealLegalEntityId = dealEntity;
  }
  if (!isDeal) {
    p.dealContractorId = null;
    p.dealLegalEntityId = null;
  }
  p.modified = acct.touch();
}

function webhookFields(f: URLSearchParams): Omit<AdeskWebhook, 'id'> {
  const url = formText(f, 'url') ?? '';
  const events = formArray(f, 'events') ?? [];
  const errors: Record<string, string[]> = {};
  if (url === '') errors.url = [REQUIRED];
  else if (!/^https?:\/\/[^\s/]+/i.test(url)) errors.url = ['Некорректный URL для уведомления.'];
  if (events.length === 0) errors.events = [REQUIRED];
  else if (events.some((e) => !WEBHOOK_EVENTS.has(e))) errors.events = ['Некорректный код события.'];
  if (Object.keys(errors).length > 0) throw new AdeskFailure({ success: false, errors }, 'validation');
  return { url, events, description: formText(f, 'description') ?? '' };
}

function webhookJson(w: AdeskWebhook): Json {
  return { id: w.id, description: w.description, url: w.url, events: [...w.events] };
}

/** v1 single-transaction fields (form names differ from v2's). */
function v1TransactionFields(f: URLSearchParams, acct: AccountState, base?: AdeskTransaction): Omit<AdeskTransaction, 'id' | 'importedId' | 'source'> {
  const date = formRequired(f, 'date');
  if (!isIsoDate(date)) throw v1Invalid('date', 'Неправильный формат даты.');
  const type = base?.type ?? formRequired(f, 'type');
  if (type !== 'income' && type !== 'outcome') throw v1Invalid('type', 'Выберите корректный вариант.');
  const amount = f.get('amount');
  const kopecks = amount === null ? null : toKopecks(amount);
  if (kopecks === null || kopecks <= 0) throw v1Invalid('amount', amount === null ? REQUIRED : 'Введите число.');
  const bankAccountId = formId(f, 'bank_account');
  const bank = need(acct.bankAccountRows, bankAccountId, 'Bank account', 'bank_account');
  if (bank.status === 'closed') throw v1Invalid('bank_account', 'Cannot use closed bank account');
  const pick = (name: string, rows: Map<number, unknown>, what: string, old: number | null): number | null => {
    const v = formId(f, name);
    if (v === undefined) return base ? old : null;
    if (v !== null) need(rows, v, what, name);
    return v;
  };
  const relatedDate = formText(f, 'related_date');
  if (relatedDate !== undefined && relatedDate !== '' && !isIsoDate(relatedDate)) throw v1Invalid('related_date', 'Неправильный формат даты.');
  return {
    type,
    amount: rubles(kopecks),
    date,
    relatedDate: relatedDate === undefined ? (base?.relatedDate ?? null) : relatedDate === '' ? null : relatedDate,
    bankAccountId: bank.id,
    categoryId: pick('category', acct.categoryRows, 'Category', base?.categoryId ?? null),
    contractorId: pick('contractor', acct.contractorRows, 'Contractor', base?.contractorId ?? null),
    projectId: pick('project', acct.projectRows, 'Project', base?.projectId ?? null),
    description: formText(f, 'description', 510) ?? base?.description ?? '',
    isPlanned: formBool(f, 'is_planned') ?? base?.isPlanned ?? false,
  };
}

type V2Item = Record<string, unknown>;

function v2Id(item: V2Item, field: string): number | null | undefined {
  const v = item[field];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw v2Fail(`Invalid value of "${field}"`, 'validation_error');
}

/**
 * Validates one v2 item against the account, `partial` for updates. Any failure fails the whole
 * request (002 L1330-1346), so the message deliberately names the field but not the item.
 */
function v2Fields(item: unknown, acct: AccountState, base?: AdeskTransaction): Omit<AdeskTransaction, 'id' | 'source'> & { importedIdSent: boolean } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw v2Fail('Each transaction must be an object', 'validation_error');
  const it = item as V2Item;
  const required = (field: string): void => {
    if (!base && (it[field] === undefined || it[field] === null || it[field] === '')) throw v2Fail(`The field "${field}" is required`, 'validation_error');
  };
  ['type', 'bankAccountId', 'amount', 'date'].forEach(required);
  const type = base ? base.type : it.type;
  if (type !== 'income' && type !== 'outcome') throw v2Fail('Invalid value of "type"', 'validation_error');
  let amount = base?.amount;
  if (it.amount !== undefined) {
    const k = typeof it.amount === 'number' || typeof it.amount === 'string' ? toKopecks(it.amount) : null;
    if (k === null || k <= 0) throw v2Fail('Invalid value of "amount"', 'validation_error');
    amount = rubles(k);
  }
  let date = base?.date;
  if (it.date !== undefined) {
    if (!isIsoDate(it.date)) throw v2Fail('Invalid value of "date": expected YYYY-MM-DD', 'validation_error');
    date = it.date;
  }
  let relatedDate = base?.relatedDate ?? null;
  if (it.relatedDate !== undefined) {
    if (it.relatedDate !== null && !isIsoDate(it.relatedDate)) throw v2Fail('Invalid value of "relatedDate"', 'validation_error');
    relatedDate = it.relatedDate;
  }
  const bankAccountId = v2Id(it, 'bankAccountId') ?? base?.bankAccountId;
  const bank = bankAccountId === undefined || bankAccountId === null ? undefined : acct.bankAccountRows.get(bankAccountId);
  if (!bank) throw v2Fail('Bank account not found', 'bank_account_not_found');
  if (bank.status === 'closed') throw v2Fail('Cannot use closed bank account', 'cannot_use_closed_bank_account');
  const ref = <T>(field: string, rows: Map<number, T>, code: string, old: number | null): number | null => {
    const v = v2Id(it, field);
    if (v === undefined) return old;
    if (v !== null && !rows.has(v)) throw v2Fail(`${field}: not found`, code);
    return v;
  };
  const categoryId = ref('categoryId', acct.categoryRows, 'category_not_found', base?.categoryId ?? null);
  if (categoryId !== null && acct.categoryRows.get(categoryId)?.type !== (type === 'income' ? 1 : 2)) {
    throw v2Fail('The category type does not match the transaction type', 'category_type_mismatch');
  }
  const projectId = ref('projectId', acct.projectRows, 'project_not_found', base?.projectId ?? null);
  if (projectId !== null && it.businessUnitId !== undefined && it.businessUnitId !== null) {
    throw v2Fail('projectId and businessUnitId cannot be used together', 'validation_error');
  }
  const description = it.description === undefined || it.description === null ? (base?.description ?? '') : it.description;
  if (typeof description !== 'string' || description.length > 510) throw v2Fail('Invalid value of "description"', 'validation_error');
  let importedId = base?.importedId ?? '';
  const importedIdSent = it.importedId !== undefined && it.importedId !== null;
  if (importedIdSent) {
    if (typeof it.importedId !== 'string' || it.importedId.length > 100 || it.importedId === '') throw v2Fail('Invalid value of "importedId"', 'validation_error');
    importedId = it.importedId;
  }
  return {
    type,
    amount: amount as string,
    date: date as string,
    relatedDate,
    bankAccountId: bank.id,
    categoryId,
    contractorId: ref('contractorId', acct.contractorRows, 'contractor_not_found', base?.contractorId ?? null),
    projectId,
    description,
    importedId,
    isPlanned: typeof it.isPlanned === 'boolean' ? it.isPlanned : (base?.isPlanned ?? false),
    importedIdSent,
  };
}

function v2Transactions(json: unknown): unknown[] {
  const list = (json as { transactions?: unknown } | null)?.transactions;
  if (!Array.isArray(list) || list.length === 0) throw v2Fail('The field "transactions" is required', 'validation_error');
  return list;
}

function transactionFilter(q: URLSearchParams, acct: AccountState): AdeskTransaction[] {
  const range = q.get('range') ?? 'all_time';
  let window: [string, string] | null = null;
  if (range === 'custom') {
    const start = q.get('range_start');
    const end = q.get('range_end');
    if (!isIsoDate(start)) throw v1Invalid('range_start');
    if (!isIsoDate(end)) throw v1Invalid('range_end');
    window = [start, end];
  } else {
    window = namedRange(range);
  }
  const accrual = q.get('date_type') === 'accrual';
  const type = q.get('type') ?? 'all';
  const bankAccount = q.get('bank_account');
  const legalEntity = q.get('legal_entity');
  const contractor = q.get('contractor');
  const inn = q.get('contractor_inn');
  const project = q.get('project');
  const category = q.get('category') ?? 'all';
  const status = q.get('status') ?? 'all';
  const withInn = inn === null || contractor !== null ? null : new Set([...acct.requisitesRows.values()].filter((r) => r.inn === inn).map((r) => r.contractorId));
  return [...acct.transactionRows.values()]
    .filter((t) => {
      const d = accrual ? (t.relatedDate ?? t.date) : t.date;
      if (window && (d < window[0] || d > window[1])) return false;
      if (type === 'transfers') return false; // the fake makes no transfers
      if ((type === 'income' || type === 'outcome') && t.type !== type) return false;
      if (bankAccount !== null && String(t.bankAccountId) !== bankAccount) return false;
      if (bankAccount === null && legalEntity !== null && String(acct.bankAccountRows.get(t.bankAccountId)?.legalEntityId) !== legalEntity) return false;
      if (contractor !== null && String(t.contractorId) !== contractor) return false;
      if (withInn && (t.contractorId === null || !withInn.has(t.contractorId))) return false;
      if (project === 'no_project' && t.projectId !== null) return false;
      if (project === 'any_project' && t.projectId === null) return false;
      if (project !== null && project !== 'no_project' && project !== 'any_project' && String(t.projectId) !== project) return false;
      if (category === 'no_category' && t.categoryId !== null) return false;
      if (category !== 'all' && category !== 'no_category' && String(t.categoryId) !== category) return false;
      if (status === 'completed' && t.isPlanned) return false;
      if (status === 'planned' && !t.isPlanned) return false;
      return true;
    })
    .sort((a, b) => (a.date === b.date ? b.id - a.id : a.date < b.date ? 1 : -1));
}

export function webhookTargets(acct: AccountState, type: string): WebhookTarget[] {
  return [...acct.webhookRows.values()].filter((w) => w.events.includes(type)).map((w) => ({ id: w.id, url: w.url }));
}

export function routes(ids: Ids, duplicates: NonNullable<FakeAdeskOptions['duplicateImportedId']>): Route[] {
  return [
    // Legal entities and bank accounts
    { method: 'GET', pattern: '/v1/legal-entities', handle: ({ acct }) => list('legalEntities', [...acct.legalEntityRows.values()].map(legalEntityJson), acct.legalEntityRows.size) },
    {
      method: 'GET',
      pattern: '/v1/legal-entity/:id',
      handle: ({ acct, id }) => ({ success: true, legalEntity: legalEntityJson(need(acct.legalEntityRows, id, 'Legal entity')) }),
    },
    {
      method: 'GET',
      pattern: '/v1/bank-accounts',
      handle: ({ acct, query }) => {
        const status = query.get('status');
        const kind = query.get('bank_account_type');
        const rows = [...acct.bankAccountRows.values()].filter((b) => (status === null || b.status === status) && (kind === null || b.type === kind));
        return list('bankAccounts', paging(rows, query).map((b) => bankAccountJson(acct, b)), rows.length);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/bank-account/:id',
      handle: ({ acct, id }) => ({ success: true, bankAccount: bankAccountJson(acct, need(acct.bankAccountRows, id, 'Bank account')) }),
    },
    {
      method: 'POST',
      pattern: '/v1/bank-account',
      write: true,
      handle: ({ acct, form, commit }) => {
        const name = formRequired(form, 'name', 210);
        const currency = formRequired(form, 'currency');
        const entity = need(acct.legalEntityRows, formId(form, 'legal_entity') ?? undefined, 'Legal entity', 'legal_entity');
        const created = acct.addBankAccount({
          name,
          currency,
          legalEntityId: entity.id,
          number: formText(form, 'number') ?? '',
          bankCode: formText(form, 'bank_code') ?? '',
          bankName: formText(form, 'bank_name') ?? '',
          type: form.get('type') === '1' ? 'Cash' : 'Bank',
          initialAmount: formRubles(form, 'initial_amount') ?? '0.00',
        });
        commit();
        return { success: true, bankAccount: bankAccountJson(acct, acct.bankAccountRows.get(created.id) as BankAccountRow) };
      },
    },
    // Categories
    {
      method: 'GET',
      pattern: '/v1/transactions/categories',
      handle: ({ acct, query }) => {
        const type = query.get('type');
        const rows = [...acct.categoryRows.values()].filter((c) => type === null || c.type === (type === 'income' ? 1 : 2));
        return list('categories', rows.map(categoryJson), rows.length);
      },
    },
    {
      method: 'POST',
      pattern: '/v1/transactions/category',
      write: true,
      handle: ({ acct, form, commit }) => {
        const id = formId(form, 'id');
        const name = formRequired(form, 'name', 210);
        const type = formRequired(form, 'type');
        if (type !== '1' && type !== '2') throw v1Invalid('type', 'Выберите корректный вариант.');
        formRequired(form, 'kind');
        const row = id === undefined || id === null ? { id: ids.take('category'), name, type: Number(type) as 1 | 2 } : need(acct.categoryRows, id, 'Category');
        row.name = name;
        row.type = Number(type) as 1 | 2;
        if (formBool(form, 'is_deleted')) acct.categoryRows.delete(row.id);
        else acct.categoryRows.set(row.id, row);
        commit();
        return { success: true, category: categoryJson(row) };
      },
    },
    // Contractors (no paging, 002 L1921-1930)
    {
      method: 'GET',
      pattern: '/v1/contractors',
      handle: ({ acct, query }) => {
        const q = query.get('q')?.toLowerCase();
        const inn = query.get('inn');
        const account = query.get('checking_bank_account');
        const reqs = [...acct.requisitesRows.values()];
        const rows = [...acct.contractorRows.values()].filter(
          (c) =>
            (!q || c.name.toLowerCase().includes(q)) &&
            (inn === null || reqs.some((r) => r.contractorId === c.id && r.inn === inn)) &&
            (account === null || reqs.some((r) => r.contractorId === c.id && r.bankAccountNumber === account)),
        );
        return list('contractors', rows.map(contractorJson), rows.length);
      },
    },
    { method: 'GET', pattern: '/v1/contractor/:id', handle: ({ acct, id }) => ({ success: true, contractor: contractorJson(need(acct.contractorRows, id, 'Contractor')) }) },
    {
      method: 'GET',
      pattern: '/v1/contractor/:id/requisites',
      handle: ({ acct, id }) => {
        need(acct.contractorRows, id, 'Contractor');
        const rows = [...acct.requisitesRows.values()].filter((r) => r.contractorId === id);
        return list('requisites', rows.map(requisitesJson), rows.length);
      },
    },
    {
      method: 'POST',
      pattern: '/v1/contractor',
      write: true,
      handle: ({ acct, form, commit, event }) => {
        const c: AdeskContractor = { id: 0, name: formRequired(form, 'name'), contactPerson: '', phoneNumber: '', email: '', description: '' };
        applyContractor(c, form);
        c.id = ids.take('contractor');
        acct.contractorRows.set(c.id, c);
        commit();
        event('contractor.created', [contractorJson(c)]);
        return { success: true, contractor: contractorJson(c) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/contractor/:id',
      write: true,
      handle: ({ acct, form, id, commit }) => {
        const c = need(acct.contractorRows, id, 'Contractor');
        const name = formText(form, 'name');
        if (name !== undefined && name.trim() === '') throw v1Invalid('name');
        const next = { ...c, name: name ?? c.name };
        applyContractor(next, form);
        Object.assign(c, next);
        commit();
        // 002 L2080-2090: the update answers no contractor object.
        return { success: true };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/contractor/:id/remove',
      write: true,
      handle: ({ acct, id, commit, event }) => {
        const c = need(acct.contractorRows, id, 'Contractor');
        acct.contractorRows.delete(id);
        for (const r of acct.requisitesRows.values()) if (r.contractorId === id) acct.requisitesRows.delete(r.id);
        commit();
        event('contractor.deleted', [contractorJson(c)]);
        return { success: true };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/contractors/remove',
      write: true,
      handle: ({ acct, form, commit, event }) => {
        const list = formArray(form, 'contractor_ids');
        if (!list || list.length === 0) throw v1Invalid('contractor_ids');
        const removed = list.map(Number).filter((id) => acct.contractorRows.has(id));
        for (const id of removed) {
          event('contractor.deleted', [contractorJson(acct.contractorRows.get(id) as AdeskContractor)]);
          acct.contractorRows.delete(id);
          for (const r of acct.requisitesRows.values()) if (r.contractorId === id) acct.requisitesRows.delete(r.id);
        }
        commit();
        return { success: true };
      },
    },
    // Requisites
    {
      method: 'POST',
      pattern: '/v1/requisites',
      write: true,
      handle: ({ acct, form, commit }) => {
        const r: AdeskRequisites = { id: ids.take('requisites'), ...requisitesFields(form, acct) };
        acct.requisitesRows.set(r.id, r);
        commit();
        return { success: true, requisites: requisitesJson(r) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/requisites/:id',
      write: true,
      handle: ({ acct, form, id, commit }) => {
        const r = need(acct.requisitesRows, id, 'Requisites');
        Object.assign(r, requisitesFields(form, acct));
        commit();
        return { success: true, requisites: requisitesJson(r) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/requisites/:id/remove',
      write: true,
      handle: ({ acct, id, commit }) => {
        need(acct.requisitesRows, id, 'Requisites');
        acct.requisitesRows.delete(id);
        commit();
        return { success: true };
      },
    },
    // Projects
    {
      method: 'POST',
      pattern: '/v1/project',
      write: true,
      handle: ({ acct, form, commit, event }) => {
        const p: ProjectRow = {
          id: 0,
          name: formRequired(form, 'name', 210),
          type: 'project',
          description: '',
          planIncome: '0.00',
          planOutcome: '0.00',
          dealContractorId: null,
          dealLegalEntityId: null,
          isArchived: false,
          created: ruDate(new Date().toISOString().slice(0, 10)),
          modified: 0,
        };
        applyProject(p, form, acct);
        p.id = ids.take('project');
        acct.projectRows.set(p.id, p);
        commit();
        event('project.created', [projectJson(acct, p)]);
        return { success: true, project: projectJson(acct, p) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/project/:id',
      write: true,
      handle: ({ acct, form, id, commit }) => {
        const p = need(acct.projectRows, id, 'Project');
        const name = formText(form, 'name', 210);
        if (name !== undefined && name.trim() === '') throw v1Invalid('name');
        const next = { ...p, name: name ?? p.name };
        applyProject(next, form, acct);
        Object.assign(p, next);
        commit();
        return { success: true, project: projectJson(acct, p) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/project/:id/remove',
      write: true,
      handle: ({ acct, id, commit, event }) => {
        const p = need(acct.projectRows, id, 'Project');
        acct.projectRows.delete(id);
        commit();
        event('project.deleted', [projectJson(acct, p)]);
        return { success: true };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/projects',
      handle: ({ acct, query }) => {
        const status = query.get('status') ?? 'active';
        const q = query.get('q')?.toLowerCase();
        const sorting = query.get('sorting') ?? 'last_modified';
        const rows = [...acct.projectRows.values()]
          .filter((p) => (status === 'all' || (status === 'archived') === p.isArchived) && (!q || p.name.toLowerCase().includes(q)))
          .sort((a, b) => (sorting === 'alphabetically' ? a.name.localeCompare(b.name, 'ru') : b.modified - a.modified));
        return list('projects', paging(rows, query).map((p) => projectJson(acct, p)), rows.length);
      },
    },
    // Transactions, v1
    {
      method: 'GET',
      pattern: '/v1/transactions',
      handle: ({ acct, query }) => {
        const rows = transactionFilter(query, acct);
        return list('transactions', paging(rows, query).map((t) => transactionJson(acct, t, false)), rows.length);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/transaction/:id',
      handle: ({ acct, id }) => ({ success: true, transaction: transactionJson(acct, need(acct.transactionRows, id, 'Transaction'), false) }),
    },
    {
      method: 'POST',
      pattern: '/v1/transaction',
      write: true,
      handle: ({ acct, form, commit, event }) => {
        const t: AdeskTransaction = { id: ids.take('transaction'), ...v1TransactionFields(form, acct), importedId: `adesk:${randomUUID()}`, source: 'api-v1' };
        acct.transactionRows.set(t.id, t);
        commit();
        event('transaction.created', [webhookTransaction(acct, t)]);
        return { success: true, transaction: transactionJson(acct, t, false) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/transaction/:id',
      write: true,
      handle: ({ acct, form, id, commit, event }) => {
        const old = need(acct.transactionRows, id, 'Transaction');
        // 002 L1759: "on update the object comes back with a NEW id".
        const t: AdeskTransaction = { ...old, ...v1TransactionFields(form, acct, old), id: ids.take('transaction') };
        acct.transactionRows.delete(id);
        acct.transactionRows.set(t.id, t);
        commit();
        event('transaction.updated', [webhookTransaction(acct, t)]);
        return { success: true, transaction: transactionJson(acct, t, false) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/transaction/:id/remove',
      write: true,
      handle: ({ acct, id, commit, event }) => {
        const t = need(acct.transactionRows, id, 'Transaction');
        acct.transactionRows.delete(id);
        commit();
        event('transaction.deleted', [webhookTransaction(acct, t)]);
        return { success: true };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/transaction/:id/complete',
      write: true,
      handle: ({ acct, id, commit, event }) => {
        const t = need(acct.transactionRows, id, 'Transaction');
        t.isPlanned = false;
        commit();
        event('transaction.confirmed', [webhookTransaction(acct, t)]);
        return { success: true };
      },
    },
    // Transactions, v2 bulk (JSON)
    {
      method: 'POST',
      pattern: '/v2/transactions/create',
      v2: true,
      write: true,
      handle: ({ acct, json, commit, event }) => {
        const items = v2Transactions(json).map((item) => v2Fields(item, acct));
        // Only the non-default policies look at what the account already holds.
        const known = new Map<string, AdeskTransaction>();
        if (duplicates !== 'accept') for (const t of acct.transactionRows.values()) if (!known.has(t.importedId)) known.set(t.importedId, t);
        if (duplicates === 'reject') {
          const seen = new Set<string>();
          for (const it of items) {
            if (!it.importedIdSent) continue;
            if (known.has(it.importedId) || seen.has(it.importedId)) throw v2Fail(`importedId ${it.importedId} already exists`, 'imported_id_already_exists');
            seen.add(it.importedId);
          }
        }
        const created: AdeskTransaction[] = [];
        const answered = items.map(({ importedIdSent, ...fields }) => {
          const existing = importedIdSent && duplicates === 'ignore' ? known.get(fields.importedId) : undefined;
          if (existing) return existing;
          const t: AdeskTransaction = { ...fields, id: ids.take('transaction'), importedId: importedIdSent ? fields.importedId : `adesk:${randomUUID()}`, source: 'api-v2' };
          acct.transactionRows.set(t.id, t);
          known.set(t.importedId, t);
          created.push(t);
          return t;
        });
        commit();
        if (created.length > 0) event('transaction.created', created.map((t) => webhookTransaction(acct, t)));
        return { success: true, transactions: answered.map((t) => transactionJson(acct, t, true)) };
      },
    },
    {
      method: 'POST',
      pattern: '/v2/transactions/update',
      v2: true,
      write: true,
      handle: ({ acct, json, commit, event }) => {
        const updates = v2Transactions(json).map((item) => {
          const id = typeof item === 'object' && item !== null ? v2Id(item as V2Item, 'id') : undefined;
          if (id === undefined || id === null) throw v2Fail('The field "id" is required', 'validation_error');
          const base = acct.transactionRows.get(id);
          if (!base) throw v2Fail(`Transaction ${id} not found`, 'transaction_not_found');
          const { importedIdSent: _sent, ...fields } = v2Fields(item, acct, base);
          return { base, fields };
        });
        for (const u of updates) Object.assign(u.base, u.fields);
        commit();
        event('transaction.updated', updates.map((u) => webhookTransaction(acct, u.base)));
        return { success: true, transactions: updates.map((u) => transactionJson(acct, u.base, true)) };
      },
    },
    {
      method: 'POST',
      pattern: '/v2/transactions/remove',
      v2: true,
      write: true,
      handle: ({ acct, json, commit, event }) => {
        const list = (json as { transactionsIds?: unknown } | null)?.transactionsIds;
        if (!Array.isArray(list) || list.length === 0 || list.some((id) => typeof id !== 'number')) {
          throw v2Fail('The field "transactionsIds" is required', 'validation_error');
        }
        // 002 does not say what an unknown (or already removed) id does; the fake skips it.
        const removed = (list as number[]).map((id) => acct.transactionRows.get(id)).filter((t): t is AdeskTransaction => t !== undefined);
        for (const t of removed) acct.transactionRows.delete(t.id);
        commit();
        if (removed.length > 0) event('transaction.deleted', removed.map((t) => webhookTransaction(acct, t)));
        return { success: true };
      },
    },
    // Webhooks
    {
      method: 'GET',
      pattern: '/v1/webhooks',
      handle: ({ acct }) => list('webhooks', [...acct.webhookRows.values()].map(webhookJson), acct.webhookRows.size),
    },
    {
      method: 'POST',
      pattern: '/v1/webhook',
      write: true,
      handle: ({ acct, form, commit }) => {
        const w: AdeskWebhook = { id: ids.take('webhook'), ...webhookFields(form) };
        acct.webhookRows.set(w.id, w);
        commit();
        return { success: true, webhook: webhookJson(w) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/webhook/:id',
      write: true,
      handle: ({ acct, form, id, commit }) => {
        const w = need(acct.webhookRows, id, 'Webhook');
        Object.assign(w, webhookFields(form));
        commit();
        return { success: true, webhook: webhookJson(w) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/webhook/:id/remove',
      write: true,
      handle: ({ acct, id, commit }) => {
        need(acct.webhookRows, id, 'Webhook');
        acct.webhookRows.delete(id);
        commit();
        return { success: true };
      },
    },
  ];
}

export function matchRoute(table: Route[], method: string, path: string): { route: Route; id: number } | { pattern: string; wrongMethod: true } | null {
  const segs = path.split('/');
  let wrongMethod: string | null = null;
  for (const route of table) {
    const pat = route.pattern.split('/');
    if (pat.length !== segs.length) continue;
    let id = 0;
    const ok = pat.every((p, i) => {
      if (p !== ':id') return p === segs[i];
      if (!/^\d+$/.test(segs[i])) return false;
      id = Number(segs[i]);
      return true;
    });
    if (!ok) continue;
    if (route.method === method) return { route, id };
    wrongMethod = route.pattern;
  }
  return wrongMethod === null ? null : { pattern: wrongMethod, wrongMethod: true };
}

