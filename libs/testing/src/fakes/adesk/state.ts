// The fake's data: one AccountState per Adesk account, and the body-coded failures handlers throw.

import { randomUUID } from 'node:crypto';
import type {
  AdeskBankAccount,
  AdeskCategory,
  AdeskContractor,
  AdeskLegalEntity,
  AdeskProject,
  AdeskRequisites,
  AdeskTransaction,
  AdeskWebhook,
  FakeAdeskAccount,
  FakeAdeskSeed,
} from '../adesk';
import { isIsoDate, rubles, toKopecks } from './format';

export const REQUIRED = 'Обязательное поле.';
export const maxLen = (n: number): string => `Убедитесь, что это значение содержит не более ${n} символов.`;

export type Json = Record<string, unknown>;

/**
 * A body-coded failure. `kind` picks the HTTP status in `errorHttpStatus: 'code'` mode and the
 * call's recorded outcome; the body is what Adesk would answer.
 */
export class AdeskFailure extends Error {
  constructor(
    readonly body: Json,
    readonly kind: 'validation' | 'not-found',
    readonly code?: string,
  ) {
    super(typeof body.message === 'string' ? body.message : 'validation failed');
  }
}

/** v1: `{success:false, errors:{field:[msg]}}`. */
export const v1Invalid = (field: string, msg = REQUIRED): AdeskFailure =>
  new AdeskFailure({ success: false, errors: { [field]: [msg] } }, 'validation');
export const v1NotFound = (what: string): AdeskFailure => new AdeskFailure({ success: false, message: `${what} not found` }, 'not-found');
/** v2: `{success:false, message, errorCode}`, for the whole request (no item index, as 002 shows). */
export const v2Fail = (message: string, errorCode: string): AdeskFailure =>
  new AdeskFailure({ success: false, message, errorCode }, 'validation', errorCode);

export interface ProjectRow extends AdeskProject {
  created: string;
  modified: number;
}
export interface BankAccountRow extends AdeskBankAccount {
  created: Date;
}

/** Ids are unique across accounts (one database behind the API), and each kind starts elsewhere, so a mixed-up id is not found. */
export class Ids {
  private readonly next = {
    legalEntity: 1,
    bankAccount: 10,
    category: 100,
    contractor: 1_000,
    requisites: 20_000,
    project: 50_000,
    transaction: 100_000,
    webhook: 900_000,
  };
  take(kind: keyof Ids['next']): number {
    return this.next[kind]++;
  }
}

export class AccountState implements FakeAdeskAccount {
  paymentRequired = false;
  readonly legalEntityRows = new Map<number, AdeskLegalEntity>();
  readonly bankAccountRows = new Map<number, BankAccountRow>();
  readonly categoryRows = new Map<number, AdeskCategory>();
  readonly contractorRows = new Map<number, AdeskContractor>();
  readonly requisitesRows = new Map<number, AdeskRequisites>();
  readonly projectRows = new Map<number, ProjectRow>();
  readonly transactionRows = new Map<number, AdeskTransaction>();
  readonly webhookRows = new Map<number, AdeskWebhook>();
  /**
   * Bank balances by account id (kopecks, transactions only), computed on first use and dropped on
   * every change: by `commit()` of a request (handlers commit before they build their answer) and
   * by the Adesk-side changes below. One scan per change, not one per object answered.
   */
  balances: Map<number, number> | null = null;
  private modified = 0;

  constructor(
    readonly tokens: readonly string[],
    private readonly ids: Ids,
    /** Tells the server about a change made on Adesk's side, so it can send the webhooks. */
    private readonly onAdeskChange: (acct: AccountState, type: string, row: AdeskTransaction) => void,
    seed: FakeAdeskSeed = {},
  ) {
    const entities = seed.legalEntities ?? [{ name: 'ООО "Папка-Тест"', inn: '7707083893', kpp: '773601001' }];
    for (const e of entities) {
      const id = ids.take('legalEntity');
      this.legalEntityRows.set(id, { id, name: e.name ?? `Юрлицо ${id}`, inn: e.inn ?? null, kpp: e.kpp ?? null });
    }
    const firstEntity = [...this.legalEntityRows.keys()];
    for (const b of seed.bankAccounts ?? [{}]) {
      const { legalEntityIndex, ...rest } = b;
      this.addBankAccount({ ...rest, legalEntityId: firstEntity[legalEntityIndex ?? 0] ?? firstEntity[0] });
    }
    const categories = seed.categories ?? [
      { name: 'Продажи', type: 1 },
      { name: 'Закупки', type: 2 },
    ];
    for (const c of categories) {
      const id = ids.take('category');
      this.categoryRows.set(id, { id, ...c });
    }
  }

  get token(): string {
    return this.tokens[0];
  }

  touch(): number {
    return ++this.modified;
  }

  legalEntities(): AdeskLegalEntity[] {
    return [...this.legalEntityRows.values()].map((r) => ({ ...r }));
  }
  bankAccounts(): AdeskBankAccount[] {
    return [...this.bankAccountRows.values()].map(({ created: _created, ...r }) => ({ ...r }));
  }
  categories(): AdeskCategory[] {
    return [...this.categoryRows.values()].map((r) => ({ ...r }));
  }
  contractors(): AdeskContractor[] {
    return [...this.contractorRows.values()].map((r) => ({ ...r }));
  }
  requisites(): AdeskRequisites[] {
    return [...this.requisitesRows.values()].map((r) => ({ ...r }));
  }
  projects(): AdeskProject[] {
    return [...this.projectRows.values()].map(({ created: _c, modified: _m, ...r }) => ({ ...r }));
  }
  transactions(): AdeskTransaction[] {
    return [...this.transactionRows.values()].map((r) => ({ ...r }));
  }
  webhooks(): AdeskWebhook[] {
    return [...this.webhookRows.values()].map((r) => ({ ...r, events: [...r.events] }));
  }

  setPaymentRequired(on: boolean): void {
    this.paymentRequired = on;
  }

  closeBankAccount(id: number): void {
    const b = this.bankAccountRows.get(id);
    if (!b) throw new Error(`fake Adesk: no bank account ${id} in this account`);
    b.status = 'closed';
  }

  openBankAccount(id: number): void {
    const b = this.bankAccountRows.get(id);
    if (!b) throw new Error(`fake Adesk: no bank account ${id} in this account`);
    b.status = 'open';
  }

  addBankAccount(a: Partial<Omit<AdeskBankAccount, 'id'>> = {}): AdeskBankAccount {
    const id = this.ids.take('bankAccount');
    const legalEntityId = a.legalEntityId ?? [...this.legalEntityRows.keys()][0];
    if (!this.legalEntityRows.has(legalEntityId)) throw new Error(`fake Adesk: no legal entity ${legalEntityId}`);
    const row: BankAccountRow = {
      id,
      name: a.name ?? 'Основной счёт',
      // 20 digits: more than a JS number holds exactly, which is the point.
      number: a.number ?? `4070281000000000${String(id).padStart(4, '0')}`,
      bankCode: a.bankCode ?? '044525104',
      bankName: a.bankName ?? 'ООО «Банк Точка»',
      currency: a.currency ?? 'RUR',
      type: a.type ?? 'Bank',
      status: a.status ?? 'open',
      legalEntityId,
      initialAmount: a.initialAmount ?? '0.00',
      created: new Date(),
    };
    this.bankAccountRows.set(id, row);
    return this.bankAccounts().find((b) => b.id === id) as AdeskBankAccount;
  }

  createTransactionInAdesk(t: Parameters<FakeAdeskAccount['createTransactionInAdesk']>[0]): AdeskTransaction {
    const bankAccountId = t.bankAccountId ?? [...this.bankAccountRows.values()].find((b) => b.status === 'open')?.id;
    if (bankAccountId === undefined || !this.bankAccountRows.has(bankAccountId)) throw new Error('fake Adesk: no such bank account');
    const kopecks = toKopecks(t.amount);
    if (kopecks === null || !isIsoDate(t.date)) throw new Error('fake Adesk: createTransactionInAdesk needs an amount and a YYYY-MM-DD date');
    for (const [id, rows, what] of [
      [t.projectId, this.projectRows, 'project'],
      [t.contractorId, this.contractorRows, 'contractor'],
      [t.categoryId, this.categoryRows, 'category'],
    ] as const) {
      if (id !== undefined && !rows.has(id)) throw new Error(`fake Adesk: no ${what} ${id}`);
    }
    const row: AdeskTransaction = {
      id: this.ids.take('transaction'),
      type: t.type,
      amount: rubles(kopecks),
      date: t.date,
      relatedDate: null,
      bankAccountId,
      categoryId: t.categoryId ?? null,
      contractorId: t.contractorId ?? null,
      projectId: t.projectId ?? null,
      description: t.description ?? '',
      importedId: `adesk:${randomUUID()}`,
      isPlanned: false,
      source: 'adesk',
    };
    this.transactionRows.set(row.id, row);
    this.balances = null;
    this.onAdeskChange(this, 'transaction.created', row);
    return { ...row };
  }

  deleteTransactionInAdesk(id: number): void {
    const row = this.transactionRows.get(id);
    if (!row) throw new Error(`fake Adesk: no transaction ${id} in this account`);
    this.transactionRows.delete(id);
    this.balances = null;
    this.onAdeskChange(this, 'transaction.deleted', row);
  }
}

