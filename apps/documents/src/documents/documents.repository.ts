import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { MoreThan, type DataSource, type EntityManager } from 'typeorm';
import { moscowInstantSql } from '@papka/persistence';
import type { Statement } from '@papka/messaging';
import type { DocumentSnapshot, DocumentView, Window } from '@papka/contracts';
import { kopecksToRubles } from '@papka/ru';
import { ContractorReplica } from '../replicas/contractor-replica.entity';
import { DocumentEntity } from './document.entity';

export interface DocumentFilter {
  contractorId?: string;
  status?: number;
  type?: string;
  from?: string;
  to?: string;
}

/** A document as the constructor makes it: no file yet. */
export type NewDocument = Omit<DocumentEntity, 'accountId' | 'createdAt' | 'updatedAt' | 'filename' | 'contentType' | 'storageKey'>;
/** What changes after creation: the status, the render outcome, and the revision of a render asked again. */
export type DocumentChanges = Partial<Pick<DocumentEntity, 'status' | 'renderState' | 'renderError' | 'revision' | 'filename' | 'contentType' | 'storageKey'>>;
/** A render's outcome, as finishRender writes it. */
export interface RenderOutcome {
  renderState: 'rendered' | 'failed';
  renderError: string | null;
  filename: string | null;
  contentType: string | null;
  storageKey: string | null;
}

/** Where a document's row and its contractor's replica stood when read (see finishRenderIfUnchanged). */
export interface RowVersions {
  /** The document row's xmin. */
  row: string;
  /** The contractor replica's version; null when there is none. */
  contractor: string | null;
}

/** A document row as PostgreSQL answers it. */
export interface DocumentRow {
  id: string;
  account_id: string;
  name: string;
  type: string;
  status: number;
  render_state: 'pending' | 'rendered' | 'failed';
  render_error: string | null;
  revision: number;
  template_id: string | null;
  source_filename: string | null;
  contractor_id: string | null;
  contractor_copy: unknown;
  masks: Record<string, unknown>;
  sum: string;
  filename: string | null;
  content_type: string | null;
  storage_key: string | null;
  created_at: Date;
  updated_at: Date;
}

interface Row {
  id: string;
  name: string;
  type: string;
  status: number;
  render_state: string;
  render_error: string | null;
  filename: string | null;
  masks: Record<string, unknown>;
  sum: string;
  contractor_copy: DocumentView['contractor'];
  c_name: string | null;
  c_inn: string | null;
  c_address: string | null;
  created_at: Date;
}

/** The entity of a raw document row. */
export const documentFromRow = (r: DocumentRow): DocumentEntity => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  type: r.type,
  status: r.status,
  renderState: r.render_state,
  renderError: r.render_error,
  revision: r.revision,
  templateId: r.template_id,
  sourceFilename: r.source_filename,
  contractorId: r.contractor_id,
  contractorCopy: r.contractor_copy as DocumentEntity['contractorCopy'],
  masks: r.masks,
  sum: Number(r.sum),
  filename: r.filename,
  contentType: r.content_type,
  storageKey: r.storage_key,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toView = (r: Row): DocumentView => ({
  uuid: r.id,
  name: r.name,
  status: r.status,
  filename: r.filename,
  // The replica follows the contractor's later changes; the copy covers a deleted one.
  contractor: r.c_name !== null ? { name: r.c_name, inn: r.c_inn, address: r.c_address } : r.contractor_copy,
  masks: r.masks,
  sum: kopecksToRubles(Number(r.sum)),
  type: r.type,
  renderState: r.render_state,
  renderError: r.render_error,
  createdAt: r.created_at.toISOString(),
});

/** Every documents query; each filters by account. */
@Injectable()
export class DocumentsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async list(accountId: string, f: DocumentFilter, w: Window): Promise<DocumentView[]> {
    const params: unknown[] = [accountId];
    const where = ['d.account_id = $1'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.contractorId) add('d.contractor_id = ?', f.contractorId);
    if (f.status !== undefined) add('d.status = ?', f.status);
    if (f.type) add('d.type = ?', f.type);
    if (f.from) add(`d.created_at >= ${moscowInstantSql('?', f.from)}`, f.from);
    if (f.to) add(`d.created_at < ${moscowInstantSql('?', f.to)}`, f.to);
    params.push(w.take, w.skip);
    const rows: Row[] = await this.ds.query(
      `SELECT d.id, d.name, d.type, d.status, d.render_state, d.render_error, d.filename, d.masks, d.sum,
              d.contractor_copy, d.created_at, r.name AS c_name, r.inn AS c_inn, r.address AS c_address
         FROM document d LEFT JOIN contractor_replica r ON r.id = d.contractor_id AND r.account_id = d.account_id
        WHERE ${where.join(' AND ')}
        ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toView);
  }

  find(accountId: string, id: string, m: EntityManager = this.ds.manager): Promise<DocumentEntity | null> {
    return m.findOneBy(DocumentEntity, { id, accountId });
  }

  /** The document, locked until the command's transaction ends. */
  lock(m: EntityManager, accountId: string, id: string): Promise<DocumentEntity | null> {
    return m.findOne(DocumentEntity, { where: { id, accountId }, lock: { mode: 'pessimistic_write' } });
  }

  /**
   * The insert of a new document as a statement for CommandTx.write (with its DocumentCreated in
   * the same statement): the row is {@link newDocument}'s, `at` its created_at and updated_at, so
   * the event built from that entity is the row as stored. Returns the id. With `accountTemplate`
   * (the account's template the document is made from) it inserts only while that template
   * exists, holding it FOR KEY SHARE until the commit: no row (nothing written) when a delete
   * took it meanwhile, and a delete waiting on it then counts this pending document.
   */
  insert(accountId: string, row: NewDocument, at: Date, accountTemplate: string | null = null): Statement {
    return {
      sql: `INSERT INTO document (id, account_id, name, type, status, render_state, render_error, revision, template_id,
                                  source_filename, contractor_id, contractor_copy, masks, sum, created_at, updated_at)
            SELECT $1::uuid, $2::varchar, $3::text, $4::varchar, $5::smallint, $6::varchar, $7::text, $8::int, $9::uuid,
                   $10::varchar, $11::uuid, $12::jsonb, $13::jsonb, $14::bigint, $15::timestamptz, $15::timestamptz
             WHERE $16::uuid IS NULL
                OR EXISTS (SELECT 1 FROM template t WHERE t.account_id = $2::varchar AND t.id = $16::uuid FOR KEY SHARE)
            RETURNING id`,
      params: [
        row.id,
        accountId,
        row.name,
        row.type,
        row.status,
        row.renderState,
        row.renderError,
        row.revision,
        row.templateId,
        row.sourceFilename,
        row.contractorId,
        row.contractorCopy === null ? null : JSON.stringify(row.contractorCopy),
        JSON.stringify(row.masks ?? {}),
        row.sum,
        at,
        accountTemplate,
      ],
    };
  }

  /**
   * Whether the account's template `id` still exists, holding it FOR KEY SHARE until the
   * transaction ends (a template delete waits, then counts the document this makes pending).
   */
  async lockTemplate(m: EntityManager, accountId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await m.query(`SELECT 1 FROM template WHERE account_id = $1 AND id = $2 FOR KEY SHARE`, [accountId, id]);
    return rows.length > 0;
  }

  /** Writes `changes` and answers the row as stored (with its new updatedAt). */
  async update(m: EntityManager, accountId: string, id: string, changes: DocumentChanges): Promise<DocumentEntity> {
    await m.update(DocumentEntity, { id, accountId }, changes);
    return m.findOneByOrFail(DocumentEntity, { id, accountId });
  }

  async delete(m: EntityManager, accountId: string, id: string): Promise<void> {
    await m.delete(DocumentEntity, { id, accountId });
  }

  /** The re-announce walks every account's documents in id order (see announceAll). */
  pageAllAccounts(m: EntityManager, afterId: string | null, limit: number): Promise<DocumentEntity[]> {
    return m.find(DocumentEntity, { where: afterId ? { id: MoreThan(afterId) } : {}, order: { id: 'ASC' }, take: limit });
  }

  /**
   * Records a render's outcome, only while the document still waits for `revision`; answers
   * the snapshot its event carries (the contractor as the replica knows it now, or the copy
   * made at creation), or null when it no longer waits (deleted, superseded, done). One
   * statement: the row is locked only for its length.
   */
  async finishRender(m: EntityManager, accountId: string, id: string, revision: number, o: RenderOutcome): Promise<DocumentSnapshot | null> {
    const rows: (DocumentRow & { c_name: string | null; c_inn: string | null; c_address: string | null })[] = await m.query(
      `WITH u AS (
         UPDATE document
            SET render_state = $4, render_error = $5, filename = $6, content_type = $7, storage_key = $8, updated_at = now()
          WHERE id = $1 AND account_id = $2 AND revision = $3 AND render_state = 'pending'
         RETURNING *)
       SELECT u.*, r.name AS c_name, r.inn AS c_inn, r.address AS c_address
         FROM u LEFT JOIN contractor_replica r ON r.id = u.contractor_id AND r.account_id = u.account_id`,
      [id, accountId, revision, o.renderState, o.renderError, o.filename, o.contentType, o.storageKey],
    );
    const r = rows[0];
    if (!r) return null;
    return snapshotOf(documentFromRow(r), r.c_name !== null ? { name: r.c_name, inn: r.c_inn, address: r.c_address } : null);
  }

  /**
   * {@link finishRender} as a statement for Commands.runOne, whose event is built from the rows
   * the renderer read: it writes only while the document still waits for `revision` and neither
   * the document's row (`seen.row`, its xmin) nor its contractor's replica (`seen.contractor`, its
   * version; null: none) has changed since that read, so the event is exactly what finishRender
   * would build. `at` is the outcome's updated_at, the one the event carries. Returns the id.
   */
  finishRenderIfUnchanged(accountId: string, id: string, revision: number, seen: RowVersions, o: RenderOutcome, at: Date): Statement {
    return {
      sql: `UPDATE document d
               SET render_state = $4, render_error = $5, filename = $6, content_type = $7, storage_key = $8, updated_at = $9
             WHERE d.id = $1 AND d.account_id = $2 AND d.revision = $3 AND d.render_state = 'pending' AND d.xmin = $10::xid
               AND (SELECT r.version FROM contractor_replica r WHERE r.account_id = d.account_id AND r.id = d.contractor_id) IS NOT DISTINCT FROM $11::bigint
            RETURNING d.id`,
      params: [id, accountId, revision, o.renderState, o.renderError, o.filename, o.contentType, o.storageKey, at, seen.row, seen.contractor],
    };
  }

  /**
   * Every account's documents pending (unchanged) for longer than `staleMs`, oldest first, at
   * most `limit`: requests a renderer took and never finished. Taking them touches their
   * `updated_at`, so that another replica's sweep leaves them alone for another `staleMs`;
   * rows locked meanwhile (being finished) are skipped. Across accounts, like pageAllAccounts.
   */
  async claimStalePending(staleMs: number, limit: number): Promise<{ id: string; accountId: string; revision: number }[]> {
    const rows: { id: string; account_id: string; revision: number }[] = await this.ds.query(
      `WITH s AS (
         SELECT id FROM document
          WHERE render_state = 'pending' AND updated_at < now() - $1 * interval '1 millisecond'
          ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED),
       c AS (
         UPDATE document d SET updated_at = now() FROM s WHERE d.id = s.id RETURNING d.id, d.account_id, d.revision)
       SELECT * FROM c`,
      [staleMs, limit],
    );
    return rows.map((r) => ({ id: r.id, accountId: r.account_id, revision: r.revision }));
  }

  /** What the document's events carry; the contractor as the replica knows it now, or the copy made at creation. */
  async snapshot(m: EntityManager, doc: DocumentEntity): Promise<DocumentSnapshot> {
    const c = doc.contractorId ? await m.findOneBy(ContractorReplica, { id: doc.contractorId, accountId: doc.accountId }) : null;
    return snapshotOf(doc, c);
  }
}

/** A new document as {@link DocumentsRepository.insert} stores it: no file yet, made at `at`. */
export const newDocument = (accountId: string, row: NewDocument, at: Date): DocumentEntity => ({
  ...row,
  masks: row.masks ?? {},
  accountId,
  filename: null,
  contentType: null,
  storageKey: null,
  createdAt: at,
  updatedAt: at,
});

/** What the document's events carry, with the contractor as `replica` knows it (null: the copy made at creation). */
export function snapshotOf(doc: DocumentEntity, replica: Pick<ContractorReplica, 'name' | 'inn' | 'address'> | null): DocumentSnapshot {
  return {
    uuid: doc.id,
    name: doc.name,
    type: doc.type,
    status: doc.status,
    renderState: doc.renderState,
    renderError: doc.renderError,
    filename: doc.filename,
    contentType: doc.contentType,
    storageKey: doc.storageKey,
    contractorId: doc.contractorId,
    contractor: replica ? { name: replica.name, inn: replica.inn, address: replica.address } : doc.contractorCopy,
    templateId: doc.templateId,
    masks: doc.masks as Record<string, unknown>,
    sum: doc.sum,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}
