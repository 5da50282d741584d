import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ContractorSnapshot, DocumentSnapshot, InteractionSnapshot, OrganizationSnapshot, PaymentSnapshot, PaymentType } from '@papka/contracts';
import { upsertVersioned } from '@papka/persistence';
import { documentKindOf, type ContractorData, type DocumentData, type DocumentKind, type DocumentPayment, type OrganizationData } from '../connectors';
import { contractorData, documentHash } from './content-hash';

/** A document as the read model has it: DocumentData without this connection's remote ids. */
export interface DocumentRow extends Omit<DocumentData, 'contractor'> {
  contractor: Omit<NonNullable<DocumentData['contractor']>, 'remoteId'> | null;
  deleted: boolean;
}

interface DocumentDbRow {
  id: string;
  type: string;
  template_id: string | null;
  name: string;
  sum: string;
  masks: Record<string, unknown>;
  status: number;
  render_state: DocumentData['renderState'];
  storage_key: string | null;
  filename: string | null;
  content_type: string | null;
  contractor_id: string | null;
  contractor: { name: string; inn: string | null; address: string | null } | null;
  doc_created_at: string;
  deleted: boolean;
}

export interface InteractionRow {
  id: string;
  contractorId: string;
  name: string;
  /** Kopecks. */
  sum: number;
  deleted: boolean;
}

export interface PaymentRow {
  id: string;
  interactionId: string;
  type: PaymentType;
  name: string;
  sum: number;
  date: string;
  removed: boolean;
}

/**
 * The read models finance-sync works from (contractors, interactions, payments, from their
 * events), so a backfill and every retry need no other service. Every write is versioned by
 * the event's aggregate sequence.
 */
@Injectable()
export class ReplicasRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  upsertContractor(m: EntityManager, accountId: string, snapshot: ContractorSnapshot, version: number, deleted: boolean): Promise<boolean> {
    const c = contractorData(snapshot);
    return upsertVersioned(
      m,
      'contractor_replica',
      {
        id: c.id,
        account_id: accountId,
        type: c.type,
        name: c.name,
        inn: c.inn,
        kpp: c.kpp,
        address: c.address,
        ogrn: c.ogrn,
        legal_name: c.legalName,
        legal_address: c.legalAddress,
        bank_accounts: JSON.stringify(c.banks),
        deleted,
        version,
      },
      { conflict: ['id'], guard: `contractor_replica.account_id = excluded.account_id` },
    );
  }

  upsertInteraction(m: EntityManager, accountId: string, i: InteractionSnapshot, version: number, deleted: boolean): Promise<boolean> {
    return upsertVersioned(
      m,
      'interaction_replica',
      { id: i.uuid, account_id: accountId, contractor_id: i.contractorId, name: i.name, sum: i.sum, deleted, version },
      { conflict: ['id'], guard: `interaction_replica.account_id = excluded.account_id` },
    );
  }

  /** A payment is recorded once and removed once; `removed` stays (a late `recorded` cannot bring it back). */
  upsertPayment(m: EntityManager, accountId: string, interactionId: string, p: PaymentSnapshot, version: number, removed: boolean): Promise<boolean> {
    return upsertVersioned(
      m,
      'payment_replica',
      { id: p.uuid, account_id: accountId, interaction_id: interactionId, type: p.type, name: p.name, sum: p.sum, date: p.date, removed, version },
      { conflict: ['id'], guard: `payment_replica.account_id = excluded.account_id AND NOT payment_replica.removed` },
    );
  }

  async contractor(accountId: string, id: string, m: EntityManager = this.ds.manager): Promise<ContractorData | null> {
    const [r] = (await m.query(
      `SELECT id, type, name, inn, kpp, address, ogrn, legal_name, legal_address, bank_accounts FROM contractor_replica WHERE id = $1 AND account_id = $2`,
      [id, accountId],
    )) as {
      id: string;
      type: number;
      name: string;
      inn: string | null;
      kpp: string | null;
      address: string | null;
      ogrn: string | null;
      legal_name: string | null;
      legal_address: string | null;
      bank_accounts: ContractorData['banks'];
    }[];
    return r
      ? { id: r.id, type: r.type, name: r.name, inn: r.inn, kpp: r.kpp, address: r.address, ogrn: r.ogrn, legalName: r.legal_name, legalAddress: r.legal_address, banks: r.bank_accounts }
      : null;
  }

  /** The account's own organisation (one row per account), versioned by the event's sequence. */
  upsertOrganization(m: EntityManager, accountId: string, o: OrganizationSnapshot, version: number): Promise<boolean> {
    return upsertVersioned(m, 'organization_replica', { account_id: accountId, name: o.name, inn: o.inn, kpp: o.kpp ?? null, version }, { conflict: ['account_id'] });
  }

  /** The seller of the account's documents; null while the account has set none. */
  async organization(accountId: string, m: EntityManager = this.ds.manager): Promise<OrganizationData | null> {
    const [r] = (await m.query(`SELECT account_id, name, inn, kpp FROM organization_replica WHERE account_id = $1`, [accountId])) as {
      account_id: string;
      name: string;
      inn: string;
      kpp: string | null;
    }[];
    return r ? { accountId: r.account_id, name: r.name, inn: r.inn, kpp: r.kpp } : null;
  }

  /**
   * The account's live documents, when one of its connected connections is to a target in
   * `targets` (none otherwise): what a change of the seller queues again.
   */
  async liveDocumentIds(m: EntityManager, accountId: string, targets: readonly string[]): Promise<string[]> {
    if (targets.length === 0) return [];
    const rows = (await m.query(
      `SELECT d.id FROM document_replica d
        WHERE d.account_id = $1 AND NOT d.deleted
          AND EXISTS (SELECT 1 FROM finance_connection c WHERE c.account_id = $1 AND c.connected AND c.target = ANY($2::text[]))
        ORDER BY d.id`,
      [accountId, [...targets]],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Versioned by the document's aggregate sequence; a deleted document stays deleted. */
  upsertDocument(m: EntityManager, accountId: string, d: DocumentSnapshot, version: number, deleted: boolean): Promise<boolean> {
    return upsertVersioned(
      m,
      'document_replica',
      {
        id: d.uuid,
        account_id: accountId,
        type: d.type,
        template_id: d.templateId,
        name: d.name,
        sum: d.sum ?? 0,
        masks: JSON.stringify(d.masks ?? {}),
        status: d.status,
        render_state: d.renderState,
        storage_key: d.storageKey,
        filename: d.filename,
        content_type: d.contentType,
        contractor_id: d.contractorId,
        contractor: d.contractor ? JSON.stringify(d.contractor) : null,
        doc_created_at: d.createdAt,
        deleted,
        version,
      },
      { conflict: ['id'], guard: `document_replica.account_id = excluded.account_id AND NOT document_replica.deleted` },
    );
  }

  /**
   * The interaction's attached documents become `documentIds` (its snapshot's list). Answers
   * the documents whose link changed (attached or detached), so that they are queued again.
   */
  async setInteractionDocuments(m: EntityManager, accountId: string, interactionId: string, documentIds: string[]): Promise<string[]> {
    const before = ((await m.query(`SELECT document_id FROM interaction_document WHERE interaction_id = $1 AND account_id = $2`, [interactionId, accountId])) as { document_id: string }[]).map(
      (r) => r.document_id,
    );
    const want = new Set(documentIds);
    const had = new Set(before);
    const gone = before.filter((id) => !want.has(id));
    const added = [...want].filter((id) => !had.has(id));
    if (gone.length) await m.query(`DELETE FROM interaction_document WHERE interaction_id = $1 AND account_id = $2 AND document_id = ANY($3::uuid[])`, [interactionId, accountId, gone]);
    if (added.length)
      await m.query(
        `INSERT INTO interaction_document (account_id, interaction_id, document_id) SELECT $1, $2, d FROM unnest($3::uuid[]) AS d ON CONFLICT DO NOTHING`,
        [accountId, interactionId, added],
      );
    return gone.length || added.length ? [...new Set([...before, ...want])] : [];
  }

  /**
   * Held until the transaction ends by whoever reads a document with its links to queue it (its
   * own event, an interaction that attached or detached it): they run one after the other.
   */
  async lockDocumentLinks(m: EntityManager, accountId: string, id: string): Promise<void> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('finance-sync:document:' || $1::text || ':' || $2::text, 0))`, [accountId, id]);
  }

  /**
   * A document with its links (first interaction, that interaction's contract) and content hash; null when unknown.
   * `payment: true` (a target with `documentsWithPayment`): with the payment that pays it in full too, in the hash
   * ({@link withPayment}); otherwise `payment` is null.
   */
  async document(accountId: string, id: string, m: EntityManager = this.ds.manager, o: { payment?: boolean } = {}): Promise<DocumentRow | null> {
    const [r] = (await m.query(
      `SELECT id, type, template_id, name, sum, masks, status, render_state, storage_key, filename, content_type, contractor_id, contractor, doc_created_at, deleted
         FROM document_replica WHERE id = $1 AND account_id = $2`,
      [id, accountId],
    )) as DocumentDbRow[];
    if (!r) return null;
    const [link] = (await m.query(
      `SELECT l.interaction_id FROM interaction_document l JOIN interaction_replica i ON i.id = l.interaction_id AND NOT i.deleted
        WHERE l.document_id = $1 AND l.account_id = $2 ORDER BY l.attached_at, l.interaction_id LIMIT 1`,
      [id, accountId],
    )) as { interaction_id: string }[];
    const interactionId = link?.interaction_id ?? null;
    const contract = interactionId ? (await this.documentsOf(accountId, interactionId, m)).find((x) => x.kind === 'contract' && x.id !== id) : undefined;
    const c = r.contractor_id ? await this.contractor(accountId, r.contractor_id, m) : null;
    const organization = await this.organization(accountId, m);
    const row: Omit<DocumentRow, 'contentHash'> = {
      id: r.id,
      type: r.type,
      kind: documentKindOf({ templateId: r.template_id, type: r.type }),
      templateId: r.template_id,
      name: r.name,
      sum: Number(r.sum),
      masks: r.masks,
      createdAt: r.doc_created_at,
      status: r.status,
      renderState: r.render_state,
      storageKey: r.storage_key,
      filename: r.filename,
      contentType: r.content_type,
      contractor: r.contractor_id
        ? c
          ? { id: c.id, name: c.name, inn: c.inn, kpp: c.kpp, address: c.address }
          : { id: r.contractor_id, name: r.contractor?.name ?? '', inn: r.contractor?.inn ?? null, kpp: null, address: r.contractor?.address ?? null }
        : null,
      interactionId,
      contractDocumentId: contract?.id ?? null,
      organization,
      payment: null,
      deleted: r.deleted,
    };
    const base = { ...row, contentHash: documentHash({ ...row, contractorId: r.contractor_id }) };
    return o.payment ? this.withPayment(accountId, base, m) : base;
  }

  /**
   * The document with `payment` (the income payment that pays it in full, {@link invoicePayment})
   * and a content hash that includes it; as it is when there is none (an unpaid document's hash
   * stays what it was before payments were part of it).
   */
  async withPayment(accountId: string, d: DocumentRow, m: EntityManager = this.ds.manager): Promise<DocumentRow> {
    const payment = await this.invoicePayment(accountId, d, m);
    return payment ? { ...d, payment, contentHash: documentHash({ ...d, contractorId: d.contractor?.id ?? null, payment }) } : d;
  }

  /**
   * The income payment that pays this invoice in full, by the rule a payment's
   * `PaymentInvoice.paidInFullBy` follows: on a live interaction the document is attached to,
   * whose invoice it is (the first attached live document of kind invoice), the payment that
   * brings the interaction's live income payments, in date order, to the invoice's sum. The
   * first such interaction's (in the order attached); null when none is paid in full.
   */
  async invoicePayment(accountId: string, d: Pick<DocumentRow, 'id' | 'kind' | 'sum'>, m: EntityManager = this.ds.manager): Promise<DocumentPayment | null> {
    if (d.kind !== 'invoice') return null;
    const links = (await m.query(
      `SELECT l.interaction_id FROM interaction_document l JOIN interaction_replica i ON i.id = l.interaction_id AND NOT i.deleted
        WHERE l.document_id = $1 AND l.account_id = $2 ORDER BY l.attached_at, l.interaction_id`,
      [d.id, accountId],
    )) as { interaction_id: string }[];
    for (const { interaction_id: interactionId } of links) {
      if ((await this.documentsOf(accountId, interactionId, m)).find((x) => x.kind === 'invoice')?.id !== d.id) continue;
      const by = (await this.paidInFullBy(accountId, new Map([[interactionId, d.sum]]), m)).get(interactionId);
      if (!by) continue;
      const [p] = (await m.query(`SELECT id, name, date::text AS date FROM payment_replica WHERE id = $1 AND account_id = $2`, [by, accountId])) as DocumentPayment[];
      if (p) return { id: p.id, name: p.name, date: p.date };
    }
    return null;
  }

  /** The live documents attached to an interaction, in the order they were attached, with their kind and sum. */
  async documentsOf(accountId: string, interactionId: string, m: EntityManager = this.ds.manager): Promise<{ id: string; kind: DocumentKind | null; templateId: string | null; sum: number }[]> {
    const rows = (await m.query(
      `SELECT d.id, d.type, d.template_id, d.sum FROM interaction_document l JOIN document_replica d ON d.id = l.document_id AND NOT d.deleted
        WHERE l.interaction_id = $1 AND l.account_id = $2 ORDER BY l.attached_at, d.id`,
      [interactionId, accountId],
    )) as { id: string; type: string; template_id: string | null; sum: string }[];
    return rows.map((r) => ({ id: r.id, kind: documentKindOf({ templateId: r.template_id, type: r.type }), templateId: r.template_id, sum: Number(r.sum) }));
  }

  /** {@link documentsOf} of many interactions in one statement (interactions without any are absent). */
  async documentsOfMany(accountId: string, interactionIds: string[]): Promise<Map<string, { id: string; kind: DocumentKind | null; templateId: string | null; sum: number }[]>> {
    const out = new Map<string, { id: string; kind: DocumentKind | null; templateId: string | null; sum: number }[]>();
    if (interactionIds.length === 0) return out;
    const rows = (await this.ds.query(
      `SELECT l.interaction_id, d.id, d.type, d.template_id, d.sum FROM interaction_document l JOIN document_replica d ON d.id = l.document_id AND NOT d.deleted
        WHERE l.interaction_id = ANY($1::uuid[]) AND l.account_id = $2 ORDER BY l.interaction_id, l.attached_at, d.id`,
      [interactionIds, accountId],
    )) as { interaction_id: string; id: string; type: string; template_id: string | null; sum: string }[];
    for (const r of rows) {
      const list = out.get(r.interaction_id) ?? [];
      list.push({ id: r.id, kind: documentKindOf({ templateId: r.template_id, type: r.type }), templateId: r.template_id, sum: Number(r.sum) });
      out.set(r.interaction_id, list);
    }
    return out;
  }

  /** {@link unknownDocumentsOf} of many interactions in one statement: the first such document of each, if any. */
  async firstUnknownDocumentOfMany(accountId: string, interactionIds: string[]): Promise<Map<string, string>> {
    if (interactionIds.length === 0) return new Map();
    const rows = (await this.ds.query(
      `SELECT DISTINCT ON (l.interaction_id) l.interaction_id, l.document_id FROM interaction_document l
        WHERE l.interaction_id = ANY($1::uuid[]) AND l.account_id = $2
          AND NOT EXISTS (SELECT 1 FROM document_replica d WHERE d.id = l.document_id AND d.account_id = $2)
        ORDER BY l.interaction_id, l.attached_at, l.document_id`,
      [interactionIds, accountId],
    )) as { interaction_id: string; document_id: string }[];
    return new Map(rows.map((r) => [r.interaction_id, r.document_id]));
  }

  /**
   * The documents attached to an interaction that the document read model has no row of yet
   * (their `document.*` event has not arrived: topics are not ordered against each other), in
   * the order they were attached. A deleted document has its row, so it is not among them.
   */
  async unknownDocumentsOf(accountId: string, interactionId: string, m: EntityManager = this.ds.manager): Promise<string[]> {
    const rows = (await m.query(
      `SELECT l.document_id FROM interaction_document l
        WHERE l.interaction_id = $1 AND l.account_id = $2
          AND NOT EXISTS (SELECT 1 FROM document_replica d WHERE d.id = l.document_id AND d.account_id = $2)
        ORDER BY l.attached_at, l.document_id`,
      [interactionId, accountId],
    )) as { document_id: string }[];
    return rows.map((r) => r.document_id);
  }

  /** The documents of an interaction (live or not) linked to it: to queue them again when its links change. */
  async documentIdsOf(m: EntityManager, accountId: string, interactionId: string): Promise<string[]> {
    const rows = (await m.query(`SELECT document_id FROM interaction_document WHERE interaction_id = $1 AND account_id = $2`, [interactionId, accountId])) as { document_id: string }[];
    return rows.map((r) => r.document_id);
  }

  async interaction(accountId: string, id: string): Promise<InteractionRow | null> {
    const [r] = (await this.ds.query(`SELECT id, contractor_id, name, sum, deleted FROM interaction_replica WHERE id = $1 AND account_id = $2`, [id, accountId])) as {
      id: string;
      contractor_id: string;
      name: string;
      sum: string;
      deleted: boolean;
    }[];
    return r ? { id: r.id, contractorId: r.contractor_id, name: r.name, sum: Number(r.sum), deleted: r.deleted } : null;
  }

  /** {@link interaction} of many in one statement. */
  async interactions(accountId: string, ids: string[]): Promise<Map<string, InteractionRow>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.ds.query(`SELECT id, contractor_id, name, sum, deleted FROM interaction_replica WHERE id = ANY($1::uuid[]) AND account_id = $2`, [ids, accountId])) as {
      id: string;
      contractor_id: string;
      name: string;
      sum: string;
      deleted: boolean;
    }[];
    return new Map(rows.map((r) => [r.id, { id: r.id, contractorId: r.contractor_id, name: r.name, sum: Number(r.sum), deleted: r.deleted }]));
  }

  async payments(accountId: string, ids: string[]): Promise<Map<string, PaymentRow>> {
    if (ids.length === 0) return new Map();
    const rows = (await this.ds.query(
      `SELECT id, interaction_id, type, name, sum, date::text AS date, removed FROM payment_replica WHERE id = ANY($1::uuid[]) AND account_id = $2`,
      [ids, accountId],
    )) as { id: string; interaction_id: string; type: PaymentType; name: string; sum: string; date: string; removed: boolean }[];
    return new Map(rows.map((r) => [r.id, { id: r.id, interactionId: r.interaction_id, type: r.type, name: r.name, sum: Number(r.sum), date: r.date, removed: r.removed }]));
  }

  /**
   * Per interaction, the id of the income payment that brings its live income payments (in date
   * order, then by id) to `sum` or past it; none when they do not reach it.
   */
  async paidInFullBy(accountId: string, sums: Map<string, number>, m: EntityManager = this.ds.manager): Promise<Map<string, string>> {
    if (sums.size === 0) return new Map();
    const ids = [...sums.keys()];
    const rows = (await m.query(
      `SELECT id, interaction_id, sum FROM payment_replica
        WHERE account_id = $1 AND interaction_id = ANY($2::uuid[]) AND type = 'income' AND NOT removed ORDER BY interaction_id, date, id`,
      [accountId, ids],
    )) as { id: string; interaction_id: string; sum: string }[];
    const paid = new Map<string, number>();
    const by = new Map<string, string>();
    for (const r of rows) {
      if (by.has(r.interaction_id)) continue;
      const total = (paid.get(r.interaction_id) ?? 0) + Number(r.sum);
      paid.set(r.interaction_id, total);
      if (total >= sums.get(r.interaction_id)!) by.set(r.interaction_id, r.id);
    }
    return by;
  }

  /** Live payments of the account dated within [from, to] (reconciliation). */
  async paymentsBetween(accountId: string, from: string, to: string): Promise<PaymentRow[]> {
    const rows = (await this.ds.query(
      `SELECT id, interaction_id, type, name, sum, date::text AS date, removed FROM payment_replica
        WHERE account_id = $1 AND date BETWEEN $2 AND $3 AND NOT removed ORDER BY date, id`,
      [accountId, from, to],
    )) as { id: string; interaction_id: string; type: PaymentType; name: string; sum: string; date: string; removed: boolean }[];
    return rows.map((r) => ({ id: r.id, interactionId: r.interaction_id, type: r.type, name: r.name, sum: Number(r.sum), date: r.date, removed: r.removed }));
  }
}
