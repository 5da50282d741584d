import { assertSafeBaseUrl, UnsafeUrlError } from '@papka/http-client';
import type { FinanceTarget } from '@papka/contracts';
import {
  ConnectorError,
  FileNotFound,
  InvalidSettings,
  MAPPING_KIND,
  type Connector,
  type ConnectorOptions,
  type Dependency,
  type DocumentData,
  type Done,
  type EntityData,
  type ItemResult,
  type PaymentData,
  type Settings,
  type Step,
} from '../connector';
import { DmsBadRequest, DmsClient, jsonWithBase64 } from './dms.client';
import { DEFAULT_DOC_TYPE_IDS, DMS_DOC_TYPE_IDS, documentBody, FILE_MARKER, paymentBody, type BodyContext, type DmsOrganization, type DmsSettings } from './dms.mapper';

export const DMS_DOCUMENT_PATH = '/Metadata/AddOrUpdateExtDoc';
/** 003's only documented path: "Оплата счета-фактуры". */
export const DMS_PAYMENT_PATH = '/Metadata/AddOrUpdateExtDoc(3)';
export const DEFAULT_AUTH_HEADER = 'Authorization: Bearer';

const KNOWN = ['baseUrl', 'authHeader', 'amountUnit', 'docTypeIds', 'organization', 'documentPath', 'paymentPath'] as const;
const HEADER = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:\s*:\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)?$/;
const PATH = /^\/[A-Za-z0-9/._~()%-]*$/;

const bad = (field: string, message: string): InvalidSettings => new InvalidSettings(`settings.${field}`, `settings.${field} ${message}`);

/**
 * DMS settings: `baseUrl` (required; the URL guard runs in check(), after DNS), `authHeader`
 * (`Header-Name` or `Header-Name: Scheme`, default `Authorization: Bearer`), `amountUnit`
 * (`rubles` default, or `kopecks`), `docTypeIds` (overrides by kind: invoice, act, contract,
 * letter, other), `organization {name, inn, kpp?, extId?}` (used only while Papka knows no
 * organisation for the account: DocumentData.organization comes first), `documentPath`/`paymentPath`
 * (003 documents only the second).
 */
export function parseDmsSettings(raw: Settings): Settings {
  for (const key of Object.keys(raw)) if (!(KNOWN as readonly string[]).includes(key)) throw bad(key, `is not a DMS setting (${KNOWN.join(', ')})`);
  const baseUrl = raw.baseUrl;
  if (typeof baseUrl !== 'string' || !baseUrl.trim()) throw bad('baseUrl', 'is required: the DMS base URL (https)');
  try {
    new URL(baseUrl.trim());
  } catch {
    throw bad('baseUrl', 'is not a URL');
  }
  const authHeader = raw.authHeader ?? DEFAULT_AUTH_HEADER;
  if (typeof authHeader !== 'string' || !HEADER.test(authHeader.trim())) throw bad('authHeader', 'must be a header name, optionally with a scheme: "Authorization: Bearer", "X-Api-Key"');
  const amountUnit = raw.amountUnit ?? 'rubles';
  if (amountUnit !== 'rubles' && amountUnit !== 'kopecks') throw bad('amountUnit', 'must be rubles or kopecks');
  const docTypeIds = { ...DEFAULT_DOC_TYPE_IDS };
  if (raw.docTypeIds !== undefined && raw.docTypeIds !== null) {
    if (typeof raw.docTypeIds !== 'object' || Array.isArray(raw.docTypeIds)) throw bad('docTypeIds', 'must be an object, e.g. {"invoice": 6}');
    for (const [kind, id] of Object.entries(raw.docTypeIds as Record<string, unknown>)) {
      if (!(kind in DEFAULT_DOC_TYPE_IDS)) throw bad(`docTypeIds.${kind}`, `is not a document kind (${Object.keys(DEFAULT_DOC_TYPE_IDS).join(', ')})`);
      if (typeof id !== 'number' || !DMS_DOC_TYPE_IDS.includes(id)) throw bad(`docTypeIds.${kind}`, `must be one of 003's DocTypeId values (${DMS_DOC_TYPE_IDS.join(', ')})`);
      docTypeIds[kind as keyof typeof docTypeIds] = id;
    }
  }
  let organization: DmsSettings['organization'] = null;
  if (raw.organization !== undefined && raw.organization !== null) {
    const o = raw.organization as Record<string, unknown>;
    if (typeof o !== 'object' || Array.isArray(o)) throw bad('organization', 'must be an object {name, inn, kpp?}');
    if (typeof o.name !== 'string' || !o.name.trim()) throw bad('organization.name', 'is required');
    if (typeof o.inn !== 'string' || !/^\d{10}(\d{2})?$/.test(o.inn)) throw bad('organization.inn', 'must be 10 or 12 digits');
    if (o.kpp !== undefined && o.kpp !== null && (typeof o.kpp !== 'string' || !/^\d{4}[\dA-Z]{2}\d{3}$/.test(o.kpp))) throw bad('organization.kpp', 'must be 9 characters');
    if (o.extId !== undefined && o.extId !== null && (typeof o.extId !== 'string' || !o.extId.trim())) throw bad('organization.extId', 'must be a non-empty string');
    organization = { name: o.name.trim(), inn: o.inn, ...(o.kpp ? { kpp: o.kpp as string } : {}), ...(o.extId ? { extId: o.extId as string } : {}) };
  }
  const path = (field: 'documentPath' | 'paymentPath', fallback: string): string => {
    const v = raw[field] ?? fallback;
    if (typeof v !== 'string' || !PATH.test(v)) throw bad(field, 'must be a path starting with /');
    return v;
  };
  const out: DmsSettings = {
    baseUrl: baseUrl.trim(),
    authHeader: authHeader.trim(),
    amountUnit,
    docTypeIds,
    organization,
    documentPath: path('documentPath', DMS_DOCUMENT_PATH),
    paymentPath: path('paymentPath', DMS_PAYMENT_PATH),
  };
  return out as unknown as Settings;
}

/**
 * The document-management system (003) behind the Connector port: rendered documents go out
 * with their PDF as `AddOrUpdateExtDoc` (upsert by Ext_ID); a payment on an interaction with an
 * invoice goes out as 003's invoice-payment call on the invoice's record. No read API exists, so
 * there is nothing to look up: the Ext_ID upsert is what makes every resend safe.
 */
export class DmsConnector implements Connector {
  readonly target: FinanceTarget = 'dms';
  readonly paymentBatch: { method: string; size: number };
  private readonly s: DmsSettings;
  private client: DmsClient | undefined;

  constructor(private readonly o: ConnectorOptions) {
    this.s = o.settings as unknown as DmsSettings;
    // One call per payment: 003 takes one document per request.
    this.paymentBatch = { method: `POST ${this.s.paymentPath}`, size: 1 };
  }

  /** Built lazily: check() runs the URL guard before anything connects. */
  private get http(): DmsClient {
    this.client ??= new DmsClient({ baseUrl: this.s.baseUrl, token: this.o.token, authHeader: this.s.authHeader, allowedHosts: this.o.allowedHosts, timeoutMs: this.o.timeoutMs });
    return this.client;
  }

  async check(settings: Settings): Promise<Settings> {
    const s = settings as unknown as DmsSettings;
    try {
      await assertSafeBaseUrl(s.baseUrl, { allowedHosts: this.o.allowedHosts });
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw new InvalidSettings('settings.baseUrl', `settings.baseUrl ${err.message}`);
      throw err;
    }
    await this.probe();
    return settings;
  }

  /** See DmsClient.probe: a 400 to an empty body is the token accepted. */
  async probe(): Promise<void> {
    let status: number;
    try {
      status = await this.http.probe(this.s.documentPath);
    } catch (err) {
      if (err instanceof ConnectorError && err.failure === 'rejected' && /refused at connect time/.test(err.message)) throw new ConnectorError('rejected', err.message, 'settings.baseUrl');
      throw err;
    }
    if (status === 400 || status === 201) return;
    throw new ConnectorError('rejected', `settings.baseUrl: the DMS answered HTTP ${status} to POST ${this.s.documentPath}${status >= 300 && status < 400 ? ' (a redirect, not followed)' : ''}`, 'settings.baseUrl');
  }

  applies(e: EntityData): true | string {
    if (e.type === 'document') {
      if (e.data.renderState !== 'rendered' || !e.data.storageKey) return 'the DMS takes rendered documents only (not rendered yet)';
      if (!e.data.contractor) return 'the document names no contractor (003 requires one)';
      return true;
    }
    if (e.type === 'payment') {
      if (!e.data.invoice) return 'the payment\'s interaction has no invoice';
      if (e.data.type !== 'income') return 'an outgoing payment does not pay the account\'s own invoice';
      // 003's call marks the invoice's record paid and holds one payment: it goes once, with the
      // payment that pays the invoice in full (a part payment would show the invoice paid).
      if (e.data.invoice.paidInFullBy !== undefined && e.data.invoice.paidInFullBy !== e.data.id) {
        return e.data.invoice.paidInFullBy === null
          ? 'the invoice is not paid in full yet (the DMS records the payment that pays it in full)'
          : `the invoice is paid in full by payment ${e.data.invoice.paidInFullBy} (the DMS records that one)`;
      }
      // Its invoice will not reach the DMS as it is (the engine asks again once the invoice is there).
      const invoice = e.data.invoice.document;
      if (invoice) {
        const why = this.applies({ type: 'document', data: invoice });
        if (why !== true) return `its invoice is not in the DMS: ${why}`;
      }
      return true;
    }
    return `the DMS takes documents and payments, not ${e.type}s`;
  }

  /** A payment goes out on its invoice's record: the invoice first. */
  dependencies(e: EntityData): Dependency[] {
    if (e.type === 'payment' && e.data.invoice) return [{ kind: MAPPING_KIND.document, key: e.data.invoice.id }];
    return [];
  }

  /**
   * The path a document goes to: a paid invoice (`d.payment`) with its payment fields to 003's
   * invoice-payment call, as the payment itself goes (003 requires PaymentNumber/PaymentDate there
   * and documents no other call that marks a record paid); any other to `documentPath`.
   */
  private documentPathOf(d: DocumentData): string {
    return d.payment ? this.s.paymentPath : this.s.documentPath;
  }

  documentSteps(d: DocumentData, done: Done, changed: boolean): Step[] {
    const existing = done(MAPPING_KIND.document, d.id);
    const update = changed && existing !== undefined;
    return [
      {
        op: update ? 'dms.document.update' : 'dms.document',
        key: d.id,
        kind: update ? null : MAPPING_KIND.document,
        method: `POST ${this.documentPathOf(d)}`,
        // No read API in 003; resending the same Ext_ID updates the record it made.
        find: async () => null,
        run: async () => {
          const id = await this.sendDocument(d);
          return update ? existing : id;
        },
      },
    ];
  }

  async createPayments(items: PaymentData[]): Promise<ItemResult[]> {
    const out: ItemResult[] = [];
    for (const p of items) out.push(await this.sendPayment(p));
    return out;
  }

  /** Nothing to look up in 003: an empty answer makes the engine resend, which the upsert makes safe. */
  async findPayments(): Promise<Map<string, string[]>> {
    return new Map();
  }

  close(): Promise<void> {
    return this.client?.close() ?? Promise.resolve();
  }

  private context(d: DocumentData): BodyContext {
    return { connectionId: this.o.connectionId, settings: this.s, organization: this.organizationOf(d) };
  }

  /** The account's organisation as Papka has it first (Ext_ID = the account), else settings.organization. */
  private organizationOf(d: DocumentData): DmsOrganization {
    const known = d.organization;
    if (known?.name && known.inn) return { Ext_ID: known.accountId, name: known.name, inn: known.inn, ...(known.kpp ? { kpp: known.kpp } : {}) };
    const set = this.s.organization;
    if (set) return { Ext_ID: set.extId ?? set.inn, name: set.name, inn: set.inn, ...(set.kpp ? { kpp: set.kpp } : {}) };
    throw new ConnectorError('rejected', 'no organization for the account: 003 requires Organization {name, inn}; set the account\'s organisation (PUT /v2/docs/organization) or settings.organization', 'settings.organization');
  }

  /**
   * A call the DMS answers 400 goes once more under a RequestID of its own: a resend after an
   * unknown outcome repeats the first call's RequestID, and a DMS that refuses a repeated one
   * would fail a record it holds. The Ext_ID upsert makes the second call safe; a 400 again is
   * the refusal.
   */
  private async orOnceMore(send: (again: boolean) => Promise<string>): Promise<string> {
    try {
      return await send(false);
    } catch (err) {
      if (!(err instanceof DmsBadRequest)) throw err;
      return send(true);
    }
  }

  private sendDocument(d: DocumentData): Promise<string> {
    return this.orOnceMore((again) => this.sendDocumentOnce(d, again));
  }

  private async sendDocumentOnce(d: DocumentData, again: boolean): Promise<string> {
    const body = documentBody(d, { ...this.context(d), again });
    const path = this.documentPathOf(d);
    const file = await this.o.files.open(d.storageKey!).catch((err: unknown) => {
      // Gone for good, or object storage down for now (nothing was sent: try again later).
      const failure = err instanceof FileNotFound ? 'rejected' : 'unavailable';
      throw new ConnectorError(failure, `the rendered file of document ${d.id} cannot be read: ${(err as Error).message}`, `POST ${path}`);
    });
    let streamed;
    try {
      streamed = jsonWithBase64(body, FILE_MARKER, file, this.o.maxFileBytes);
    } catch (err) {
      throw new ConnectorError('rejected', `POST ${path}: ${(err as Error).message}`, `POST ${path}`);
    }
    const answer = await this.http.post(path, streamed);
    return String(answer.id ?? d.id);
  }

  private async sendPayment(p: PaymentData): Promise<string> {
    const invoice = p.invoice?.document;
    if (!invoice) throw new ConnectorError('rejected', `payment ${p.id}: the invoice's content is not known to the engine`, this.paymentBatch.method);
    return this.orOnceMore(async (again) => {
      const answer = await this.http.post(this.s.paymentPath, paymentBody(p, invoice, { ...this.context(invoice), again }));
      return `${String(answer.id ?? invoice.id)}:${p.id}`;
    });
  }
}
