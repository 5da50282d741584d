import type { FinanceTarget } from '@papka/contracts';
import {
  ConnectorError,
  InvalidSettings,
  MAPPING_KIND,
  markerOf,
  type Connector,
  type ConnectorOptions,
  type ContractorData,
  type Dependency,
  type Done,
  type DocumentData,
  type EntityData,
  type ItemResult,
  type PaymentData,
  type RemoteDocument,
  type RemotePayment,
  type Settings,
  type Step,
} from '../connector';
import { MOYSKLAD_METHOD, MoyskladClient, MoyskladError, itemFailure, route, type MoyskladErrorItem } from './moysklad.client';
import { TOKEN_LIMITS, limiterFor, type TokenKind } from './moysklad.limiter';
import {
  counterpartyBody,
  counterpartyUpdate,
  invoiceOutBody,
  paymentBody,
  paymentTypeOf,
  remotePayment,
  syncIdOf,
  INVOICE_SERVICE,
  type MoyskladEntityType,
  type MoyskladSettings,
} from './moysklad.mapper';

type Obj = Record<string, unknown>;
interface ListAnswer {
  rows?: Obj[];
  meta?: { size?: number };
}

/** MoySklad's bulk cap (`_general.md`: ≤ 1000 objects per array). */
const MAX_BULK = 1000;
/** syncIds per look-up: ~45 characters each keeps the URL far below MoySklad's 8 KB of headers. */
const LOOKUP_CHUNK = 50;
const PAGE = 1000;
const MAX_PAGES = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SETTINGS = ['organizationId', 'organizationAccountId', 'expenseItemId', 'invoiceServiceId', 'tokenKind'] as const;

/** MoySklad settings: optional uuids of its own entities, and `tokenKind` (default `user`, the stricter limit). */
export function parseMoyskladSettings(raw: Settings): Settings {
  const out: Settings = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(SETTINGS as readonly string[]).includes(key)) throw new InvalidSettings(`settings.${key}`, `settings.${key} is not a MoySklad setting (${SETTINGS.join(', ')})`);
    if (value === undefined || value === null || value === '') continue;
    if (key === 'tokenKind') {
      if (value !== 'solution' && value !== 'user') throw new InvalidSettings('settings.tokenKind', 'settings.tokenKind must be "solution" or "user"');
      out.tokenKind = value;
      continue;
    }
    if (typeof value !== 'string' || !UUID.test(value)) throw new InvalidSettings(`settings.${key}`, `settings.${key} must be a MoySklad id (a uuid)`);
    out[key] = value.toLowerCase();
  }
  out.tokenKind ??= 'user';
  return out;
}

const tokenKindOf = (s: Settings): TokenKind => (s.tokenKind === 'solution' ? 'solution' : 'user');

/** MoySklad (004, JSON API 1.2) behind the Connector port: counterparties, invoiceout, paymentin/paymentout. */
export class MoyskladConnector implements Connector {
  readonly target: FinanceTarget = 'moysklad';
  readonly paymentBatch: { method: string; size: number; inFlight: number };
  readonly removeMethod = MOYSKLAD_METHOD;
  private readonly client: MoyskladClient;
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly o: ConnectorOptions,
  ) {
    this.baseUrl = baseUrl.replace(/(?<!\/)\/+$/, '');
    const limiter = limiterFor(o.token, TOKEN_LIMITS[tokenKindOf(o.settings)]);
    this.client = new MoyskladClient(this.baseUrl, o.token, o.timeoutMs, limiter);
    // Batches in flight up to MoySklad's parallel limit: the token's limiter holds each request
    // to the window and to 5 (fewer after a 1073) whatever the engine asks for.
    this.paymentBatch = { method: MOYSKLAD_METHOD, size: Math.min(o.batchSize, MAX_BULK), inFlight: 5 };
  }

  private get s(): MoyskladSettings {
    return this.o.settings as unknown as MoyskladSettings;
  }

  /**
   * Proves the token and fills in the defaults: the organization (else the first one), its
   * account when given, the expense item every paymentout needs (else the first one), and the
   * service invoices are priced through (else «Услуги по счёту», found or created).
   */
  async check(settings: Settings): Promise<Settings> {
    const out: Settings = { ...settings, tokenKind: tokenKindOf(settings) };
    const org = await this.pick('organization', settings.organizationId as string | undefined, 'settings.organizationId');
    out.organizationId = org;
    if (settings.organizationAccountId) {
      const accounts = await this.client.get<ListAnswer>(`/entity/organization/${org}/accounts`);
      if (!(accounts.rows ?? []).some((a) => String(a.id).toLowerCase() === settings.organizationAccountId)) {
        throw new ConnectorError('rejected', `account ${String(settings.organizationAccountId)} is not an account of organization ${org}`, 'settings.organizationAccountId');
      }
    }
    out.expenseItemId = await this.pick('expenseitem', settings.expenseItemId as string | undefined, 'settings.expenseItemId');
    out.invoiceServiceId = settings.invoiceServiceId ? await this.pick('service', settings.invoiceServiceId as string, 'settings.invoiceServiceId') : await this.invoiceService();
    return out;
  }

  /** Papka's invoice service: the one with its externalCode, else created (its fixed syncId makes a second PUT's create answer the first). */
  private async invoiceService(): Promise<string> {
    const found = (await this.client.get<ListAnswer>('/entity/service', { filter: `externalCode=${INVOICE_SERVICE.externalCode}`, limit: 1 })).rows?.[0];
    if (found) return String(found.id).toLowerCase();
    return idOrThrow(await this.client.post<Obj>('/entity/service', { ...INVOICE_SERVICE }), 'service');
  }

  private async pick(type: 'organization' | 'expenseitem' | 'service', wanted: string | undefined, field: string): Promise<string> {
    if (wanted) {
      try {
        const e = await this.client.get<Obj>(`/entity/${type}/${wanted}`);
        return String(e.id).toLowerCase();
      } catch (err) {
        if (err instanceof MoyskladError && err.failure === 'rejected') throw new ConnectorError('rejected', `${type} ${wanted} is not in this MoySklad account`, field);
        throw err;
      }
    }
    const first = (await this.client.get<ListAnswer>(`/entity/${type}`, { limit: 1 })).rows?.[0];
    if (!first) throw new ConnectorError('rejected', `the MoySklad account has no ${type}`, field);
    return String(first.id).toLowerCase();
  }

  async probe(): Promise<void> {
    await this.client.get('/entity/organization', { limit: 1 });
  }

  /** Only invoices attached to an interaction and naming a contractor become invoiceout. */
  applies(e: EntityData): true | string {
    if (e.type !== 'document') return true;
    if (e.data.kind !== 'invoice') return 'MoySklad takes invoices only';
    if (!e.data.interactionId) return 'an invoice not attached to an interaction';
    if (!e.data.contractor) return 'an invoice without a contractor';
    return true;
  }

  /**
   * A counterparty needs nothing; an invoiceout its counterparty; a payment its counterparty and,
   * for an income with an invoice on its interaction, that invoiceout (so `operations[]` can
   * link it: a payment is never updated afterwards).
   */
  dependencies(e: EntityData): Dependency[] {
    if (e.type === 'document' && e.data.contractor) return [{ kind: MAPPING_KIND.contractor, key: e.data.contractor.id }];
    if (e.type === 'payment') {
      const deps: Dependency[] = [{ kind: MAPPING_KIND.contractor, key: e.data.contractorId }];
      if (e.data.type === 'income' && e.data.invoice) deps.push({ kind: MAPPING_KIND.document, key: e.data.invoice.id });
      return deps;
    }
    return [];
  }

  contractorSteps(c: ContractorData, done: Done, changed: boolean): Step[] {
    const existing = done(MAPPING_KIND.contractor, c.id);
    const steps: Step[] = [this.counterpartyCreate(c)];
    if (changed && existing) steps.push(this.updateStep('counterparty', c.id, existing, () => counterpartyUpdate(c, this.o.connectionId)));
    return steps;
  }

  documentSteps(d: DocumentData, done: Done, changed: boolean): Step[] {
    const agent = (): string => {
      const id = d.contractor?.remoteId ?? (d.contractor ? done(MAPPING_KIND.contractor, d.contractor.id) : undefined);
      if (!id) throw new ConnectorError('rejected', 'the invoice contractor is not synced', MOYSKLAD_METHOD);
      return id;
    };
    const body = (): Obj => invoiceOutBody(d, agent(), this.s, this.baseUrl, this.o.connectionId);
    const existing = done(MAPPING_KIND.document, d.id);
    const steps: Step[] = [this.createStep('invoiceout', MAPPING_KIND.document, d.id, body)];
    if (changed && existing) {
      steps.push(
        this.updateStep('invoiceout', d.id, existing, () => {
          const { syncId: _s, ...rest } = body();
          return rest;
        }),
      );
    }
    return steps;
  }

  /**
   * A create step. Its look-up is by syncId, and its run sends the same syncId, so even a
   * look-up that misses (an entity still being written) cannot make a second one.
   */
  private createStep(type: MoyskladEntityType, kind: string, key: string, body: () => Obj): Step {
    return {
      op: `${type}.create`,
      key,
      kind,
      method: MOYSKLAD_METHOD,
      find: async () => (await this.bySyncIds(type, [key])).get(key)?.[0] ?? null,
      run: async () => idOrThrow(await this.client.post<Obj>(`/entity/${type}`, body()), type),
    };
  }

  /**
   * A counterparty's create. Before it POSTs, the account's own counterparties are looked up
   * (finance-targets.md §2: `filter=inn=…`, or `filter=externalCode=…` without an INN): the
   * account may hold the contractor already (typed in by hand, imported from 1C). Ours (its
   * externalCode or marker is the contractor's) is taken; else one with the same INN (and KPP,
   * when both have one) that carries no marker or externalCode of another Papka entity, when it
   * is the only one. Such a one is adopted: mapped, and given Papka's fields by a PUT (its
   * externalCode left as it is; so is one of ours found from run, whose content the engine takes
   * for what it sent). Two or more candidates, or none: a counterparty of our own.
   * After an unknown outcome the look-up goes by syncId first, then the same way, under the
   * engine's `taken` guard as well.
   */
  private counterpartyCreate(c: ContractorData): Step {
    const base = this.createStep('counterparty', MAPPING_KIND.contractor, c.id, () => counterpartyBody(c, this.o.connectionId));
    // `always`: from run, where the engine takes the answer for a create of the current content.
    const adopt = async (always: boolean, taken?: (remoteId: string) => Promise<boolean>): Promise<string | null> => {
      const found = await this.existingCounterparty(c, taken);
      if (!found) return null;
      if (found.adopt || always) await this.client.put(`/entity/counterparty/${found.id}`, counterpartyUpdate(c, this.o.connectionId));
      return found.id;
    };
    return {
      ...base,
      find: async (taken) => (await base.find(taken)) ?? (await adopt(false, taken)),
      run: async () => (await adopt(true)) ?? (await base.run()),
    };
  }

  /**
   * The account's counterparty for `c`, if it has one (see counterpartyCreate): `adopt` when it is
   * not ours yet. One MoySklad call: by INN, else by externalCode.
   */
  private async existingCounterparty(c: ContractorData, taken?: (remoteId: string) => Promise<boolean>): Promise<{ id: string; adopt: boolean } | null> {
    const rows = await this.listAll('counterparty', c.inn ? `inn=${c.inn}` : `externalCode=${c.id}`);
    const markOf = (r: Obj): string | null => markerOf(typeof r.description === 'string' ? r.description : '');
    const codeOf = (r: Obj): string => String(r.externalCode ?? '').toLowerCase();
    const ours = rows.filter((r) => codeOf(r) === c.id || markOf(r) === c.id);
    const free = async (r: Obj): Promise<boolean> => !taken || !(await taken(String(r.id).toLowerCase()));
    if (ours.length > 0) {
      for (const r of ours) if (await free(r)) return { id: String(r.id).toLowerCase(), adopt: false };
      return null;
    }
    const kpp = c.type === 2 ? c.kpp : null;
    const candidates: Obj[] = [];
    for (const r of rows) {
      if (c.inn && String(r.inn ?? '') !== c.inn) continue;
      if (kpp && typeof r.kpp === 'string' && r.kpp && r.kpp !== kpp) continue;
      // Papka's for another entity (its marker, or its externalCode under our syncId): not this one's.
      const mark = markOf(r);
      const code = codeOf(r);
      if (mark || (UUID.test(code) && String(r.syncId ?? '').toLowerCase() === syncIdOf(this.o.connectionId, 'counterparty', code))) continue;
      if (!(await free(r))) continue;
      candidates.push(r);
    }
    return candidates.length === 1 ? { id: String(candidates[0]!.id).toLowerCase(), adopt: true } : null;
  }

  private updateStep(type: MoyskladEntityType, key: string, remoteId: string, body: () => Obj): Step {
    return {
      op: `${type}.update`,
      key,
      kind: null,
      method: MOYSKLAD_METHOD,
      find: async () => null,
      run: async () => {
        await this.client.put(`/entity/${type}/${remoteId}`, body());
        return remoteId;
      },
    };
  }

  /**
   * One bulk array per payment type. Each item's result is its own: an entity (checked to be
   * the one sent, by externalCode) or its `errors`. When one type's call fails as a whole and the
   * other's did not, that type's items carry the failure; when every call failed, it is thrown.
   */
  async createPayments(items: PaymentData[]): Promise<ItemResult[]> {
    const results: ItemResult[] = new Array<ItemResult>(items.length);
    const groups = new Map<'paymentin' | 'paymentout', number[]>();
    items.forEach((p, i) => groups.set(paymentTypeOf(p.type), [...(groups.get(paymentTypeOf(p.type)) ?? []), i]));
    const thrown: unknown[] = [];
    // The two calls go out together: MoySklad allows 5 in parallel and the limiter keeps them within it.
    await Promise.all(
      [...groups].map(async ([type, indexes]) => {
        const key = route('POST', `/entity/${type}`);
        try {
          const answer = await this.client.post<unknown>(`/entity/${type}`, indexes.map((i) => paymentBody(items[i]!, this.s, this.baseUrl, this.o.connectionId)));
          if (!Array.isArray(answer) || answer.length !== indexes.length) {
            throw new ConnectorError('outcome_unknown', `${key}: answered ${Array.isArray(answer) ? answer.length : 'no'} items for ${indexes.length}`, MOYSKLAD_METHOD);
          }
          indexes.forEach((i, n) => {
            const item = answer[n] as Obj;
            const errors = item?.errors as MoyskladErrorItem[] | undefined;
            if (Array.isArray(errors)) results[i] = itemFailure(key, errors);
            else if (typeof item?.id === 'string' && String(item.externalCode ?? '').toLowerCase() === items[i]!.id) results[i] = item.id.toLowerCase();
            else results[i] = new ConnectorError('outcome_unknown', `${key}: item ${n} answered another entity`, MOYSKLAD_METHOD);
          });
        } catch (err) {
          if (!(err instanceof ConnectorError)) throw err;
          thrown.push(err);
          for (const i of indexes) results[i] = err;
        }
      }),
    );
    if (thrown.length === groups.size && thrown.length > 0) throw thrown[0];
    return results;
  }

  async findPayments(items: PaymentData[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    for (const type of ['paymentin', 'paymentout'] as const) {
      const ids = items.filter((p) => paymentTypeOf(p.type) === type).map((p) => p.id);
      for (const [id, remote] of await this.bySyncIds(type, ids)) found.set(id, [...(found.get(id) ?? []), ...remote]);
    }
    return found;
  }

  /**
   * Bulk delete (`POST /entity/<type>/delete`), paymentin first; what is not a paymentin is
   * tried as a paymentout. One gone from both counts as removed.
   */
  async removePayments(remoteIds: string[]): Promise<void> {
    let left = remoteIds;
    for (const type of ['paymentin', 'paymentout'] as const) {
      if (left.length === 0) return;
      const answer = await this.client.post<unknown>(`/entity/${type}/delete`, left.map((id) => ({ meta: { href: `${this.baseUrl}/entity/${type}/${id}`, type, mediaType: 'application/json' } })));
      const rows = Array.isArray(answer) ? (answer as Obj[]) : [];
      left = left.filter((_, n) => {
        const errors = rows[n]?.errors as MoyskladErrorItem[] | undefined;
        if (!Array.isArray(errors)) return false;
        if (errors.some((e) => e.code === 1021)) return true;
        throw itemFailure(route('POST', `/entity/${type}/delete`), errors);
      });
    }
  }

  async readPayment(remoteId: string): Promise<RemotePayment | null> {
    for (const type of ['paymentin', 'paymentout'] as const) {
      try {
        return remotePayment(await this.client.get<Obj>(`/entity/${type}/${remoteId}`), this.o.connectionId);
      } catch (err) {
        if (!(err instanceof MoyskladError) || err.status !== 404) throw err;
      }
    }
    return null;
  }

  async listPayments(from: string, to: string): Promise<RemotePayment[]> {
    const out: RemotePayment[] = [];
    for (const type of ['paymentin', 'paymentout'] as const) {
      const filter = `moment>=${from} 00:00:00;moment<=${to} 23:59:59`;
      for (const row of await this.listAll(type, filter)) out.push(remotePayment(row, this.o.connectionId));
    }
    return out;
  }

  /**
   * Invoiceout created in [from, to] (UTC days, as the engine compares createdAt): their moments
   * are Moscow time, so the range is shifted by the 3 hours.
   */
  async listDocuments(from: string, to: string): Promise<RemoteDocument[]> {
    const next = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const rows = await this.listAll('invoiceout', `moment>=${from} 03:00:00;moment<${next} 03:00:00`);
    return rows.map((e) => {
      const code = String(e.externalCode ?? '').toLowerCase();
      const ours = String(e.syncId ?? '').toLowerCase() === syncIdOf(this.o.connectionId, 'invoiceout', code);
      return { remoteId: String(e.id).toLowerCase(), entityId: ours ? code : markerOf(typeof e.description === 'string' ? e.description : ''), sum: typeof e.sum === 'number' ? Math.round(e.sum) : null };
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** Our entities of a type by the Papka uuids they carry (`filter=syncId=…;syncId=…`, ORed). */
  private async bySyncIds(type: MoyskladEntityType, entityIds: string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>();
    const bySync = new Map(entityIds.map((id) => [syncIdOf(this.o.connectionId, type, id), id]));
    const all = [...bySync.keys()];
    for (let i = 0; i < all.length; i += LOOKUP_CHUNK) {
      const filter = all
        .slice(i, i + LOOKUP_CHUNK)
        .map((s) => `syncId=${s}`)
        .join(';');
      for (const row of await this.listAll(type, filter)) {
        const id = bySync.get(String(row.syncId ?? '').toLowerCase());
        if (id) found.set(id, [...(found.get(id) ?? []), String(row.id).toLowerCase()]);
      }
    }
    return found;
  }

  private async listAll(type: string, filter: string): Promise<Obj[]> {
    const out: Obj[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.client.get<ListAnswer>(`/entity/${type}`, { filter, limit: PAGE, offset: page * PAGE });
      const rows = res.rows ?? [];
      out.push(...rows);
      if (rows.length < PAGE) break;
    }
    return out;
  }
}

function idOrThrow(o: Obj | undefined, type: string): string {
  if (!o || typeof o.id !== 'string') throw new ConnectorError('outcome_unknown', `MoySklad answered success without the ${type}`, MOYSKLAD_METHOD);
  return o.id.toLowerCase();
}
