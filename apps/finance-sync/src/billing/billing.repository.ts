import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { BillingDocumentSnapshot, BillingDocumentStatus, BillingDocumentType } from '@papka/contracts';
import { OPEN_STATUSES, TYPES_WITH_STATUS, type RejectedBillingDocument, type RemoteBillingDocument } from '../connectors/billing/billing.mapper';

export type ImportState = 'running' | 'interrupted' | 'done' | 'failed';
export type ImportPhase = 'window' | 'open' | 'done';

export interface ImportRow {
  id: string;
  accountId: string;
  connectionId: string;
  trigger: 'schedule' | 'manual';
  state: ImportState;
  /** null until the run has started: its plan (page base, date_to...) is fixed then. */
  pageBase: 0 | 1 | null;
  dateTo: string | null;
  windowFrom: string | null;
  openFrom: string | null;
  phase: ImportPhase;
  /** Pages of the current phase already stored (the next page is pageBase + nextPage). */
  nextPage: number;
  /**
   * Documents read so far in the current phase (mapped or set aside), as the billing answered
   * them: a billing that caps its pages answers fewer than asked, so this is never nextPage × size.
   */
  seen: number;
  pages: number;
  documents: number;
  /** Documents set aside by this run (see `billing_rejected`). */
  rejected: number;
  created: number;
  updated: number;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface ImportPlan {
  pageBase: 0 | 1;
  dateTo: string;
  windowFrom: string | null;
  openFrom: string | null;
}

/** A document as it is stored: the mapped fields, the raw 001 object, a hash of what it says. */
export interface DocumentWrite {
  id: string;
  doc: RemoteBillingDocument;
  docAt: Date;
  hash: string;
}

export interface DocumentsFilter {
  type?: BillingDocumentType;
  status?: BillingDocumentStatus;
  /** Inclusive bounds on the document date, as moments. */
  from?: Date;
  to?: Date;
  page: number;
  size: number;
}

interface ImportDbRow {
  id: string;
  account_id: string;
  connection_id: string;
  trigger: 'schedule' | 'manual';
  state: ImportState;
  page_base: number | null;
  date_to: string | null;
  window_from: string | null;
  open_from: string | null;
  phase: ImportPhase;
  next_page: number;
  seen: number;
  pages: number;
  documents: number;
  rejected: number;
  created: number;
  updated: number;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const IMPORT_COLUMNS = `id, account_id, connection_id, trigger, state, page_base, date_to, window_from, open_from, phase, next_page, seen, pages, documents, rejected, created, updated, error, started_at, finished_at`;

const toImport = (r: ImportDbRow): ImportRow => ({
  id: r.id,
  accountId: r.account_id,
  connectionId: r.connection_id,
  trigger: r.trigger,
  state: r.state,
  pageBase: r.page_base === null ? null : (Number(r.page_base) as 0 | 1),
  dateTo: r.date_to,
  windowFrom: r.window_from,
  openFrom: r.open_from,
  phase: r.phase,
  nextPage: r.next_page,
  seen: r.seen,
  pages: r.pages,
  documents: r.documents,
  rejected: r.rejected,
  created: r.created,
  updated: r.updated,
  error: r.error,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

const OPEN = OPEN_STATUSES.map((s) => `'${s}'`).join(', ');
const WITH_STATUS = TYPES_WITH_STATUS.map((t) => `'${t}'`).join(', ');

/** Every query of the billing import; each method takes the account it works for. */
@Injectable()
export class BillingRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  // ---------------------------------------------------------------------------------------------
  // Imports
  // ---------------------------------------------------------------------------------------------

  /**
   * A scheduled import when the connection has no unfinished one and none started within
   * `pollMs`. Two replicas doing this at once insert one (the partial unique index).
   */
  async schedule(accountId: string, connectionId: string, id: string, pollMs: number): Promise<void> {
    await this.ds.query(
      `INSERT INTO billing_import (id, account_id, connection_id, trigger, state)
       SELECT $3, $1, $2, 'schedule', 'running'
        WHERE NOT EXISTS (SELECT 1 FROM billing_import
                           WHERE account_id = $1 AND connection_id = $2 AND started_at > now() - ($4 || ' milliseconds')::interval)
       ON CONFLICT (connection_id) WHERE state IN ('running', 'interrupted') DO NOTHING`,
      [accountId, connectionId, id, String(pollMs)],
    );
  }

  /**
   * An import on demand: a new one, or the connection's unfinished one (an interrupted one is
   * due again at once). Answers its id.
   */
  async request(accountId: string, connectionId: string, id: string): Promise<string> {
    const inserted = (await this.ds.query(
      `INSERT INTO billing_import (id, account_id, connection_id, trigger, state) VALUES ($3, $1, $2, 'manual', 'running')
       ON CONFLICT (connection_id) WHERE state IN ('running', 'interrupted') DO NOTHING RETURNING id`,
      [accountId, connectionId, id],
    )) as { id: string }[];
    if (inserted[0]) return inserted[0].id;
    const [open] = (await this.ds.query(
      `UPDATE billing_import SET resume_at = NULL WHERE account_id = $1 AND connection_id = $2 AND state IN ('running', 'interrupted') RETURNING id`,
      [accountId, connectionId],
    )) as [{ id: string }[], number];
    if (open[0]) return open[0].id;
    return this.request(accountId, connectionId, id); // it finished in between
  }

  /** The connection's due unfinished import, leased to this process (FOR UPDATE SKIP LOCKED), or null. */
  async claim(accountId: string, connectionId: string, leaseMs: number): Promise<ImportRow | null> {
    const [rows] = (await this.ds.query(
      `UPDATE billing_import SET state = 'running', lease_until = now() + ($3 || ' milliseconds')::interval, attempts = attempts + 1
        WHERE id IN (SELECT id FROM billing_import
                      WHERE account_id = $1 AND connection_id = $2 AND state IN ('running', 'interrupted')
                        AND (lease_until IS NULL OR lease_until < now()) AND (resume_at IS NULL OR resume_at <= now())
                      FOR UPDATE SKIP LOCKED)
       RETURNING ${IMPORT_COLUMNS}`,
      [accountId, connectionId, String(leaseMs)],
    )) as [ImportDbRow[], number];
    return rows[0] ? toImport(rows[0]) : null;
  }

  async savePlan(accountId: string, id: string, plan: ImportPlan): Promise<void> {
    await this.ds.query(
      `UPDATE billing_import SET page_base = $3, date_to = $4, window_from = $5, open_from = $6, phase = 'window', next_page = 0, seen = 0 WHERE account_id = $1 AND id = $2`,
      [accountId, id, plan.pageBase, plan.dateTo, plan.windowFrom, plan.openFrom],
    );
  }

  /**
   * Where the import got to, in the transaction that stored the page; the lease is renewed.
   * `seen` is the phase's count of documents read so far (0 when the phase changes).
   */
  async advance(
    m: EntityManager,
    accountId: string,
    id: string,
    a: { phase: ImportPhase; nextPage: number; seen: number; documents: number; rejected: number; created: number; updated: number; leaseMs: number },
  ): Promise<void> {
    await m.query(
      `UPDATE billing_import SET phase = $3, next_page = $4, seen = $9, pages = pages + 1, documents = documents + $5, rejected = rejected + $10,
              created = created + $6, updated = updated + $7, error = NULL, lease_until = now() + ($8 || ' milliseconds')::interval
        WHERE account_id = $1 AND id = $2`,
      [accountId, id, a.phase, a.nextPage, a.documents, a.created, a.updated, String(a.leaseMs), a.seen, a.rejected],
    );
  }

  async finish(accountId: string, id: string, state: 'done' | 'failed', error: string | null): Promise<void> {
    await this.ds.query(
      `UPDATE billing_import SET state = $3, error = $4, phase = CASE WHEN $3 = 'done' THEN 'done' ELSE phase END, lease_until = NULL, finished_at = now()
        WHERE account_id = $1 AND id = $2`,
      [accountId, id, state, error],
    );
  }

  /** Stopped by a failure that passes (billing down, 5xx): it continues where it stopped, after `resumeInMs`. */
  async interrupt(accountId: string, id: string, error: string, resumeInMs: number): Promise<void> {
    await this.ds.query(
      `UPDATE billing_import SET state = 'interrupted', error = $3, lease_until = NULL, resume_at = now() + ($4 || ' milliseconds')::interval
        WHERE account_id = $1 AND id = $2`,
      [accountId, id, error, String(resumeInMs)],
    );
  }

  /** Gives the lease back (shutdown): another replica continues at once. */
  async release(accountId: string, id: string): Promise<void> {
    await this.ds.query(`UPDATE billing_import SET lease_until = NULL WHERE account_id = $1 AND id = $2`, [accountId, id]);
  }

  async getImport(accountId: string, id: string): Promise<ImportRow | null> {
    const [r] = (await this.ds.query(`SELECT ${IMPORT_COLUMNS} FROM billing_import WHERE account_id = $1 AND id = $2`, [accountId, id])) as ImportDbRow[];
    return r ? toImport(r) : null;
  }

  /** `date_to` of the connection's last finished import: new documents are those after it. */
  async lastDoneDateTo(accountId: string, connectionId: string): Promise<string | null> {
    const [r] = (await this.ds.query(
      `SELECT date_to FROM billing_import WHERE account_id = $1 AND connection_id = $2 AND state = 'done' ORDER BY started_at DESC LIMIT 1`,
      [accountId, connectionId],
    )) as { date_to: string | null }[];
    return r?.date_to ?? null;
  }

  /** 001 date of the connection's oldest bill still open (NEW, AWAITING_PAYMENT, PARTIALLY_PAID). */
  /** The date of the oldest document still open (a bill or an expense that can still be paid). */
  async oldestOpen(accountId: string, connectionId: string): Promise<string | null> {
    const [r] = (await this.ds.query(
      `SELECT doc_date FROM billing_document WHERE account_id = $1 AND connection_id = $2 AND type IN (${WITH_STATUS}) AND status IN (${OPEN}) ORDER BY doc_at LIMIT 1`,
      [accountId, connectionId],
    )) as { doc_date: string }[];
    return r?.doc_date ?? null;
  }

  // ---------------------------------------------------------------------------------------------
  // Documents set aside (the parser could not map them; the rest of their page was imported)
  // ---------------------------------------------------------------------------------------------

  /** Records (or refreshes) each set-aside document of a page under its key (`TYPE:id`), with its reason. */
  async reject(m: EntityManager, accountId: string, connectionId: string, importId: string, docs: Array<RejectedBillingDocument & { key: string }>): Promise<void> {
    if (docs.length === 0) return;
    await m.query(
      `INSERT INTO billing_rejected (account_id, connection_id, doc_key, type, remote_id, doc_date, reason, raw, import_id)
       SELECT $1, $2, x.doc_key, x.type, x.remote_id, x.doc_date, x.reason, x.raw, $3
         FROM jsonb_to_recordset($4::jsonb) AS x(doc_key text, type text, remote_id text, doc_date text, reason text, raw jsonb)
       ON CONFLICT (connection_id, doc_key) DO UPDATE SET
         type = EXCLUDED.type, remote_id = EXCLUDED.remote_id, doc_date = EXCLUDED.doc_date, reason = EXCLUDED.reason, raw = EXCLUDED.raw,
         import_id = EXCLUDED.import_id, last_seen_at = now()
       WHERE billing_rejected.account_id = EXCLUDED.account_id`,
      [accountId, connectionId, importId, JSON.stringify(docs.map((d) => ({ doc_key: d.key, type: d.type, remote_id: d.id, doc_date: d.date, reason: d.reason, raw: d.raw ?? null })))],
    );
  }

  /** These documents (`TYPE:id`) were read and stored: they are no longer set aside. */
  async unreject(m: EntityManager, accountId: string, connectionId: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await m.query(`DELETE FROM billing_rejected WHERE account_id = $1 AND connection_id = $2 AND doc_key = ANY($3::text[])`, [accountId, connectionId, keys]);
  }

  /** The account's set-aside documents, most recently seen first. */
  async listRejected(accountId: string, page: number, size: number): Promise<RejectedRow[]> {
    const rows = (await this.ds.query(
      `SELECT type, remote_id, doc_date, reason, raw, import_id, first_seen_at, last_seen_at FROM billing_rejected
        WHERE account_id = $1 ORDER BY last_seen_at DESC, doc_key LIMIT $2 OFFSET $3`,
      [accountId, size, (page - 1) * size],
    )) as RejectedDbRow[];
    return rows.map((r) => ({
      type: r.type,
      id: r.remote_id,
      date: r.doc_date,
      reason: r.reason,
      raw: r.raw,
      importId: r.import_id,
      firstSeenAt: r.first_seen_at.toISOString(),
      lastSeenAt: r.last_seen_at.toISOString(),
    }));
  }

  // ---------------------------------------------------------------------------------------------
  // Documents
  // ---------------------------------------------------------------------------------------------

  /** The stored hash of each of these documents (by `TYPE:id`), locked for this transaction. */
  async hashes(m: EntityManager, accountId: string, connectionId: string, docs: { type: string; id: string }[]): Promise<Map<string, string>> {
    if (docs.length === 0) return new Map();
    const rows = (await m.query(
      `SELECT type, remote_id, content_hash FROM billing_document
        WHERE account_id = $1 AND connection_id = $2 AND (type, remote_id) IN (SELECT * FROM unnest($3::text[], $4::text[]))
        FOR UPDATE`,
      [accountId, connectionId, docs.map((d) => d.type), docs.map((d) => d.id)],
    )) as { type: string; remote_id: string; content_hash: string }[];
    return new Map(rows.map((r) => [`${r.type}:${r.remote_id}`, r.content_hash]));
  }

  /** Inserts or replaces the document with its lines and relations (upsert by connection, type, id). */
  async upsert(m: EntityManager, accountId: string, connectionId: string, w: DocumentWrite): Promise<void> {
    const d = w.doc;
    await m.query(
      `INSERT INTO billing_document (id, account_id, connection_id, type, remote_id, number, sub_type, status, title, description, doc_date, doc_at, deadline,
                                     vat_sum, total_sum, balance_sum, raw, content_hash)
       VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       ON CONFLICT (connection_id, type, remote_id) DO UPDATE SET
         sub_type = EXCLUDED.sub_type, status = EXCLUDED.status, title = EXCLUDED.title, description = EXCLUDED.description,
         doc_date = EXCLUDED.doc_date, doc_at = EXCLUDED.doc_at, deadline = EXCLUDED.deadline, vat_sum = EXCLUDED.vat_sum,
         total_sum = EXCLUDED.total_sum, balance_sum = EXCLUDED.balance_sum, raw = EXCLUDED.raw, content_hash = EXCLUDED.content_hash, updated_at = now()
       WHERE billing_document.account_id = EXCLUDED.account_id`,
      [
        w.id,
        accountId,
        connectionId,
        d.type,
        d.id,
        d.subType,
        d.status,
        d.title,
        d.description,
        d.date,
        w.docAt,
        d.deadline,
        d.vatSum,
        d.totalSum,
        d.balanceSum,
        JSON.stringify(d.raw),
        w.hash,
      ],
    );
    await m.query(`DELETE FROM billing_document_item WHERE document_id = $1`, [w.id]);
    if (d.items.length) {
      await m.query(
        `INSERT INTO billing_document_item (document_id, position, num, title, description, measure, amount, price, total_sum)
         SELECT $1, x.position, x.num, x.title, x.description, x.measure, x.amount::numeric, x.price, x.total_sum
           FROM jsonb_to_recordset($2::jsonb) AS x(position int, num int, title text, description text, measure text, amount text, price bigint, total_sum bigint)`,
        [w.id, JSON.stringify(d.items.map((i, position) => ({ position, num: i.num, title: i.title, description: i.description, measure: i.measure, amount: i.amount, price: i.price, total_sum: i.totalSum })))],
      );
    }
    await m.query(`DELETE FROM billing_document_relation WHERE document_id = $1`, [w.id]);
    if (d.relations.length) {
      await m.query(
        `INSERT INTO billing_document_relation (document_id, position, related_type, related_id, title, related_date, relation_sum)
         SELECT $1, x.position, x.related_type, x.related_id, x.title, x.related_date, x.relation_sum
           FROM jsonb_to_recordset($2::jsonb) AS x(position int, related_type text, related_id text, title text, related_date text, relation_sum bigint)`,
        [w.id, JSON.stringify(d.relations.map((r, position) => ({ position, related_type: r.type, related_id: r.id, title: r.title, related_date: r.date, relation_sum: r.relationSum })))],
      );
    }
  }

  /** The account's documents, newest first, in the shape of the API and the events. */
  async list(accountId: string, f: DocumentsFilter): Promise<BillingDocumentSnapshot[]> {
    const where = ['d.account_id = $1'];
    const params: unknown[] = [accountId];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.type) add('d.type = ?', f.type);
    if (f.status) add('d.status = ?', f.status);
    if (f.from) add('d.doc_at >= ?', f.from);
    if (f.to) add('d.doc_at <= ?', f.to);
    params.push(f.size, (f.page - 1) * f.size);
    const rows = (await this.ds.query(
      `SELECT d.* FROM billing_document d WHERE ${where.join(' AND ')} ORDER BY d.doc_at DESC, d.type, d.remote_id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    )) as DocumentDbRow[];
    return this.snapshots(this.ds.manager, accountId, rows);
  }

  /** The documents by id, in that order (for events, in the transaction that wrote them). */
  async byIds(m: EntityManager, accountId: string, ids: string[]): Promise<BillingDocumentSnapshot[]> {
    if (ids.length === 0) return [];
    const rows = (await m.query(`SELECT d.* FROM billing_document d WHERE d.account_id = $1 AND d.id = ANY($2::uuid[])`, [accountId, ids])) as DocumentDbRow[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    return this.snapshots(m, accountId, ids.map((id) => byId.get(id)).filter((r): r is DocumentDbRow => r !== undefined));
  }

  private async snapshots(m: EntityManager, accountId: string, rows: DocumentDbRow[]): Promise<BillingDocumentSnapshot[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const items = (await m.query(
      `SELECT i.* FROM billing_document_item i JOIN billing_document d ON d.id = i.document_id
        WHERE d.account_id = $1 AND i.document_id = ANY($2::uuid[]) ORDER BY i.document_id, i.position`,
      [accountId, ids],
    )) as ItemDbRow[];
    // A relation names a document by (type, id) on the same connection: resolved to its uuid once imported.
    const relations = (await m.query(
      `SELECT r.*, t.id AS related_uuid FROM billing_document_relation r
         JOIN billing_document d ON d.id = r.document_id
         LEFT JOIN billing_document t ON t.connection_id = d.connection_id AND t.type = r.related_type AND t.remote_id = r.related_id
        WHERE d.account_id = $1 AND r.document_id = ANY($2::uuid[]) ORDER BY r.document_id, r.position`,
      [accountId, ids],
    )) as RelationDbRow[];
    const itemsOf = group(items);
    const relationsOf = group(relations);
    return rows.map((r) => ({
      uuid: r.id,
      id: r.remote_id,
      type: r.type,
      subType: r.sub_type,
      status: r.status,
      title: r.title,
      description: r.description,
      date: r.doc_date,
      deadline: r.deadline,
      vatSum: Number(r.vat_sum),
      totalSum: Number(r.total_sum),
      balanceSum: Number(r.balance_sum),
      items: (itemsOf.get(r.id) ?? []).map((i) => ({
        num: i.num,
        title: i.title,
        description: i.description,
        measure: i.measure,
        amount: i.amount === null ? null : Number(i.amount),
        price: i.price === null ? null : Number(i.price),
        totalSum: Number(i.total_sum),
      })),
      relations: (relationsOf.get(r.id) ?? []).map((x) => ({
        id: x.related_id,
        type: x.related_type,
        title: x.title,
        date: x.related_date,
        relationSum: Number(x.relation_sum),
        uuid: x.related_uuid,
      })),
      importedAt: r.imported_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
    }));
  }
}

/** A document the import set aside, as the API lists it. */
export interface RejectedRow {
  type: string | null;
  id: string | null;
  date: string | null;
  reason: string;
  raw: unknown;
  importId: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
}

interface RejectedDbRow {
  type: string | null;
  remote_id: string | null;
  doc_date: string | null;
  reason: string;
  raw: unknown;
  import_id: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
}

interface DocumentDbRow {
  id: string;
  type: BillingDocumentType;
  remote_id: string;
  sub_type: string | null;
  status: BillingDocumentStatus | null;
  title: string | null;
  description: string | null;
  doc_date: string;
  deadline: string | null;
  vat_sum: string;
  total_sum: string;
  balance_sum: string;
  imported_at: Date;
  updated_at: Date;
}

interface ItemDbRow {
  document_id: string;
  num: number;
  title: string | null;
  description: string | null;
  measure: string | null;
  amount: string | null;
  price: string | null;
  total_sum: string;
}

interface RelationDbRow {
  document_id: string;
  related_type: string;
  related_id: string;
  title: string | null;
  related_date: string | null;
  relation_sum: string;
  related_uuid: string | null;
}

function group<T extends { document_id: string }>(rows: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) out.set(r.document_id, [...(out.get(r.document_id) ?? []), r]);
  return out;
}
