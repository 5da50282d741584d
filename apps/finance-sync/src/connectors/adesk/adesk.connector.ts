import type { FinanceTarget } from '@papka/contracts';
import {
  ConnectorError,
  InvalidSettings,
  markerOf,
  MAPPING_KIND,
  type Connector,
  type ConnectorOptions,
  type ContractorBankData,
  type ContractorData,
  type Dependency,
  type Done,
  type EntityData,
  type Held,
  type InteractionData,
  type PaymentData,
  type RemotePayment,
  type Settings,
  type Step,
} from '../connector';
import { AdeskClient, route } from './adesk.client';
import { contractorForm, importedIdOf, projectForm, remotePayment, requisitesForm, transactionItem, type TransactionSettings } from './adesk.mapper';

type Obj = Record<string, unknown>;

/** Page size of Adesk's v1 lists (start/length); 002 gives no maximum. */
const PAGE = 100;
/** Bounds every paged read: 1,000 pages of 100 is far beyond any account a test or a customer has per day. */
const MAX_PAGES = 1000;

export const ADESK_WEBHOOK_EVENTS = ['transaction.created', 'transaction.updated', 'transaction.deleted'];

const ADESK_SETTINGS = ['bankAccountId', 'incomeCategoryId', 'outcomeCategoryId'] as const;

/** Adesk settings: optional positive integers (Adesk's own ids; numeric strings are taken as numbers). Anything else is a 400 naming it. */
export function parseAdeskSettings(raw: Settings): Settings {
  const out: Settings = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(ADESK_SETTINGS as readonly string[]).includes(key)) throw new InvalidSettings(`settings.${key}`, `settings.${key} is not an Adesk setting (${ADESK_SETTINGS.join(', ')})`);
    if (value === undefined || value === null) continue;
    const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new InvalidSettings(`settings.${key}`, `settings.${key} must be an integer`);
    if (n < 1) throw new InvalidSettings(`settings.${key}`, `settings.${key} must be positive`);
    out[key] = n;
  }
  return out;
}

/** Adesk (002) behind the Connector port. */
export class AdeskConnector implements Connector {
  readonly target: FinanceTarget = 'adesk';
  readonly paymentBatch: { method: string; size: number; inFlight: number };
  readonly paymentLookupMethod = route('GET', '/v1/transactions');
  readonly removeMethod = route('POST', '/v2/transactions/remove');
  private readonly client: AdeskClient;

  constructor(
    baseUrl: string,
    private readonly o: ConnectorOptions,
  ) {
    this.client = new AdeskClient(baseUrl, o.token, o.timeoutMs);
    // Two bulk creates at once: 002's limit is per method with no number given, so no more than
    // it takes to keep one batch's database work behind the other's call.
    this.paymentBatch = { method: route('POST', '/v2/transactions/create'), size: o.batchSize, inFlight: 2 };
  }

  private get tx(): TransactionSettings {
    return this.o.settings as unknown as TransactionSettings;
  }

  async check(settings: Settings): Promise<Settings> {
    const res = await this.client.v1Get<{ bankAccounts?: Obj[] }>('/v1/bank-accounts', { status: 'open' });
    const open = (res.bankAccounts ?? []).filter((b) => b.status === undefined || b.status === 'open');
    const wanted = settings.bankAccountId as number | undefined;
    const bank = wanted === undefined ? open[0] : open.find((b) => Number(b.id) === wanted);
    if (!bank) {
      throw new ConnectorError(
        'rejected',
        wanted === undefined ? 'the Adesk account has no open bank account' : `bank account ${wanted} is not an open bank account of this Adesk account`,
        'settings.bankAccountId',
      );
    }
    return { ...settings, bankAccountId: Number(bank.id) };
  }

  async probe(): Promise<void> {
    await this.client.v1Get('/v1/bank-accounts', { length: 1 });
  }

  /** A deal needs its contractor (deal_contractor); a transaction its contractor and its deal. */
  dependencies(e: EntityData): Dependency[] {
    if (e.type === 'interaction') return [{ kind: MAPPING_KIND.contractor, key: e.data.contractorId }];
    if (e.type === 'payment')
      return [
        { kind: MAPPING_KIND.contractor, key: e.data.contractorId },
        { kind: MAPPING_KIND.interaction, key: e.data.interactionId },
      ];
    return [];
  }

  async registerWebhook(url: string): Promise<void> {
    const res = await this.client.v1Get<{ webhooks?: Obj[] }>('/v1/webhooks');
    if ((res.webhooks ?? []).some((w) => w.url === url)) return;
    await this.client.v1Post('/v1/webhook', { url, events: ADESK_WEBHOOK_EVENTS, description: 'Papka finance-sync' });
  }

  contractorSteps(c: ContractorData, done: Done, changed: boolean, held: Held): Step[] {
    const remote = (): string => {
      const id = done('contractor', c.id);
      if (!id) throw new Error('requisites step ran before its contractor step');
      return id;
    };
    const steps: Step[] = [
      {
        op: 'contractor.create',
        key: c.id,
        kind: 'contractor',
        method: route('POST', '/v1/contractor'),
        findMethod: route('GET', '/v1/contractors'),
        find: (taken) => this.findContractor(c, taken),
        run: async () => idOrThrow((await this.client.v1Post<{ contractor?: Obj }>('/v1/contractor', contractorForm(c))).contractor, 'contractor'),
      },
    ];
    // A rename: sending the same fields again does no harm, so no look-up is needed. It goes
    // last, so that once Adesk shows the new name every requisites object is updated as well.
    const existing = done('contractor', c.id);
    const rename: Step[] = [];
    if (changed && existing) {
      rename.push({
        op: 'contractor.update',
        key: c.id,
        kind: null,
        method: route('POST', '/v1/contractor/1'),
        find: async () => null,
        run: async () => {
          await this.client.v1Post(`/v1/contractor/${existing}`, contractorForm(c));
          return existing;
        },
      });
    }
    // Each requisites object holds one bank account (002 L2146). The first one is keyed by the
    // contractor and carries its INN and KPP even before it has a bank account (it gets the
    // first bank account by an update later); every further bank account gets its own. A bank
    // account that became the first when the one before it was removed keeps its own object, and
    // the contractor's is then not needed: its bank account is gone.
    const [first, ...more] = c.banks;
    const firstHasOwn = first !== undefined && done('requisites', first.uuid) !== undefined;
    const keep = new Set<string>();
    if ((c.inn || first) && !firstHasOwn) {
      keep.add(c.id);
      steps.push(this.requisitesStep(c, c.id, first ?? null, remote));
      const existing = done('requisites', c.id);
      if (changed && existing) steps.push(this.requisitesUpdate(existing, c, first ?? null, remote, c.id));
    }
    for (const bank of firstHasOwn ? c.banks : more) {
      keep.add(bank.uuid);
      steps.push(this.requisitesStep(c, bank.uuid, bank, remote));
      // A change reaches every requisites object made before (an INN, KPP or name is on each),
      // not only the first one.
      const made = done('requisites', bank.uuid);
      if (changed && made) steps.push(this.requisitesUpdate(made, c, bank, remote));
    }
    // The requisites of a bank account the contractor no longer has are removed: a payment made
    // in Adesk to that contractor would otherwise offer the old account.
    const gone = held('requisites').filter((key) => !keep.has(key));
    return [...gone.map((key) => this.requisitesRemove(done('requisites', key)!, key, remote)), ...steps, ...rename];
  }

  /** Removes requisites object `id` (002 L2257); one that is gone already (a resend after a lost answer) is done. */
  private requisitesRemove(id: string, key: string, remote: () => string): Step {
    return {
      op: 'requisites.remove',
      key,
      kind: 'requisites',
      removes: true,
      method: route('POST', '/v1/requisites/1/remove'),
      find: async () => null,
      run: async () => {
        try {
          await this.client.v1Post(`/v1/requisites/${id}/remove`, {});
        } catch (err) {
          if (!(err instanceof ConnectorError && err.failure === 'rejected')) throw err;
          const left = (await this.client.v1Get<{ requisites?: Obj[] }>(`/v1/contractor/${remote()}/requisites`)).requisites ?? [];
          if (left.some((r) => String(r.id) === id)) throw err;
        }
        return id;
      },
    };
  }

  /** An update of requisites object `id` (002 L2224: it resends `contractor` and `name`). */
  private requisitesUpdate(id: string, c: ContractorData, bank: ContractorBankData | null, remote: () => string, key = bank?.uuid ?? c.id): Step {
    return {
      op: 'requisites.update',
      key,
      kind: null,
      method: route('POST', '/v1/requisites/1'),
      find: async () => null,
      run: async () => {
        await this.client.v1Post(`/v1/requisites/${id}`, requisitesForm(remote(), c, bank));
        return id;
      },
    };
  }

  private requisitesStep(c: ContractorData, key: string, bank: ContractorBankData | null, remote: () => string): Step {
    return {
      op: 'requisites.create',
      key,
      kind: 'requisites',
      method: route('POST', '/v1/requisites'),
      findMethod: route('GET', '/v1/contractor/1/requisites'),
      find: () => this.findRequisites(remote(), c, bank),
      run: async () => idOrThrow((await this.client.v1Post<{ requisites?: Obj }>('/v1/requisites', requisitesForm(remote(), c, bank))).requisites, 'requisites'),
    };
  }

  interactionSteps(i: InteractionData, done: (kind: string, key: string) => string | undefined, changed: boolean): Step[] {
    const existing = done('project', i.id);
    if (changed && existing) {
      return [
        {
          op: 'project.update',
          key: i.id,
          kind: null,
          method: route('POST', '/v1/project/1'),
          find: async () => null,
          run: async () => {
            await this.client.v1Post(`/v1/project/${existing}`, projectForm(i));
            return existing;
          },
        },
      ];
    }
    return [
      {
        op: 'project.create',
        key: i.id,
        kind: 'project',
        method: route('POST', '/v1/project'),
        findMethod: route('GET', '/v1/projects'),
        // By the name as it was sent (cut to 210, 002 L200), then, for a deal renamed since its
        // create was sent, among every deal with a marker.
        find: async () => (await this.findProjects(projectForm(i).name)).get(i.id)?.[0] ?? (await this.findProjects()).get(i.id)?.[0] ?? null,
        run: async () => idOrThrow((await this.client.v1Post<{ project?: Obj }>('/v1/project', projectForm(i))).project, 'project'),
      },
    ];
  }

  async createPayments(items: PaymentData[]): Promise<string[]> {
    const res = await this.client
      .v2Post<{ transactions?: Obj[] }>('/v2/transactions/create', {
        transactions: items.map((p) => transactionItem(p, this.tx, this.o.connectionTag)),
      })
      .catch((err: unknown) => {
        // Every new transaction goes to settings.bankAccountId: closed in Adesk, no payment can go
        // out until the connection names an open one (or the account is opened again).
        if (err instanceof ConnectorError && err.everyItem)
          throw new ConnectorError('settings_refused', `${err.message}: settings.bankAccountId ${this.tx.bankAccountId} is closed in Adesk`, err.method);
        throw err;
      });
    const answered = res.transactions ?? [];
    // A success that does not answer one object per item cannot be mapped: find them instead.
    if (answered.length !== items.length) throw new ConnectorError('outcome_unknown', `bulk create answered ${answered.length} objects for ${items.length} items`, this.paymentBatch.method);
    // Each object by its importedId (002's answer carries it, L1237), not by its place in the
    // answer, which 002 does not promise: a payment mapped to another's transaction would later
    // remove or update that one. Objects without it are taken in order.
    if (!answered.some((t) => typeof t.importedId === 'string')) return answered.map((t) => String(t.id));
    const byImported = new Map(answered.map((t) => [t.importedId, String(t.id)]));
    return items.map((p) => {
      const id = byImported.get(importedIdOf(this.o.connectionTag, p.id));
      if (id === undefined) throw new ConnectorError('outcome_unknown', `bulk create answered no transaction for payment ${p.id}`, this.paymentBatch.method);
      return id;
    });
  }

  async findPayments(items: PaymentData[]): Promise<Map<string, string[]>> {
    const wanted = new Set(items.map((p) => p.id));
    const found = new Map<string, string[]>();
    for (const date of new Set(items.map((p) => p.date))) {
      // Every bank account's: one sent before settings.bankAccountId changed is in the old one,
      // and missing it there would send it a second time.
      for (const t of await this.transactions(date, date)) {
        if (!t.entityId || !wanted.has(t.entityId)) continue;
        found.set(t.entityId, [...(found.get(t.entityId) ?? []), t.remoteId]);
      }
    }
    return found;
  }

  async removePayments(remoteIds: string[]): Promise<void> {
    try {
      await this.client.v2Post('/v2/transactions/remove', { transactionsIds: remoteIds.map(Number) });
    } catch (err) {
      // 002 does not say what removing a removed transaction answers: a refusal is fine when
      // every one of them is gone.
      if (!(err instanceof ConnectorError) || err.failure !== 'rejected') throw err;
      for (const id of remoteIds) if (await this.readPayment(id)) throw err;
    }
  }

  async readPayment(remoteId: string): Promise<RemotePayment | null> {
    try {
      const res = await this.client.v1Get<{ transaction?: Obj }>(`/v1/transaction/${encodeURIComponent(remoteId)}`);
      return res.transaction ? remotePayment(res.transaction, this.o.connectionTag) : null;
    } catch (err) {
      if (err instanceof ConnectorError && err.failure === 'rejected') return null;
      throw err;
    }
  }

  /** The transactions of the settings' bank account over the dates (reconciliation). */
  listPayments(from: string, to: string): Promise<RemotePayment[]> {
    return this.transactions(from, to, this.tx.bankAccountId);
  }

  /** Over the dates; of one bank account, or of all of them. */
  private async transactions(from: string, to: string, bankAccount?: number): Promise<RemotePayment[]> {
    const out: RemotePayment[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.client.v1Get<{ transactions?: Obj[] }>('/v1/transactions', {
        range: 'custom',
        range_start: from,
        range_end: to,
        ...(bankAccount === undefined ? {} : { bank_account: bankAccount }),
        status: 'all',
        start: page * PAGE,
        length: PAGE,
      });
      const rows = res.transactions ?? [];
      out.push(...rows.map((t) => remotePayment(t, this.o.connectionTag)));
      if (rows.length < PAGE) break;
    }
    return out;
  }

  listMarkedProjects(): Promise<Map<string, string[]>> {
    return this.findProjects();
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** Projects with a Papka marker, by entity id; `q` narrows by name (002 L320). */
  private async findProjects(q?: string): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.client.v1Get<{ projects?: Obj[] }>('/v1/projects', { status: 'all', start: page * PAGE, length: PAGE, ...(q ? { q } : {}) });
      const rows = res.projects ?? [];
      for (const p of rows) {
        const id = markerOf(typeof p.description === 'string' ? p.description : '');
        if (id) found.set(id, [...(found.get(id) ?? []), String(p.id)]);
      }
      if (rows.length < PAGE) break;
    }
    return found;
  }

  /**
   * A contractor whose create may have been applied. By INN first (002 L1921; the INN is in the
   * requisites, so a contractor whose requisites step never ran has none): ours by the marker,
   * else the only one with that INN, else the one of that name (the user's own contractor is
   * adopted rather than made twice). Then by name: ours by the marker where Adesk returns the
   * description, else the one with exactly the name we send and no requisites yet, which is what
   * a create whose answer was lost leaves behind (002's contractor object has no description,
   * L1895-1902, so the marker alone cannot be relied on).
   */
  private async findContractor(c: ContractorData, taken: (remoteId: string) => Promise<boolean> = async () => false): Promise<string | null> {
    const markOf = (x: Obj) => markerOf(typeof x.description === 'string' ? x.description : '');
    const mine = (list: Obj[]) => list.find((x) => markOf(x) === c.id);
    // One that another contractor of this connection has (two branches share an INN; Adesk's
    // lists show no description to tell Papka's marker by) is never this one's: adopted, this
    // one's deals and payments landed on the other, and its renames overwrote it.
    const free = async (list: Obj[]): Promise<Obj[]> => {
      const out: Obj[] = [];
      for (const x of list) if (markOf(x) === null && !(await taken(String(x.id)))) out.push(x);
      return out;
    };
    const sent = contractorForm(c).name;
    const named = (list: Obj[]) => list.filter((x) => x.name === sent);
    if (c.inn) {
      const byInn = (await this.client.v1Get<{ contractors?: Obj[] }>('/v1/contractors', { inn: c.inn })).contractors ?? [];
      const open = await free(byInn);
      const hit = mine(byInn) ?? (open.length === 1 ? open[0] : named(open)[0]);
      if (hit) return String(hit.id);
    }
    const byName = (await this.client.v1Get<{ contractors?: Obj[] }>('/v1/contractors', { q: sent })).contractors ?? [];
    const marked = mine(byName);
    if (marked) return String(marked.id);
    for (const candidate of named(await free(byName))) {
      const res = await this.client.v1Get<{ requisites?: Obj[] }>(`/v1/contractor/${String(candidate.id)}/requisites`);
      if ((res.requisites ?? []).length === 0) return String(candidate.id);
    }
    return null;
  }

  private async findRequisites(remoteContractorId: string, c: ContractorData, bank: ContractorBankData | null): Promise<string | null> {
    const res = await this.client.v1Get<{ requisites?: Obj[] }>(`/v1/contractor/${remoteContractorId}/requisites`);
    const hit = (res.requisites ?? []).find((r) =>
      bank ? String(r.bankAccountNumber ?? r.bank_account_number ?? '') === bank.number : String(r.inn ?? '') === (c.inn ?? ''),
    );
    return hit ? String(hit.id) : null;
  }
}

function idOrThrow(o: Obj | undefined, what: string): string {
  if (!o || o.id === undefined || o.id === null) throw new ConnectorError('outcome_unknown', `Adesk answered success without the ${what}`, what);
  return String(o.id);
}
