import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { MoreThan, type DataSource, type EntityManager } from 'typeorm';
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
    if (f.from) add('d.created_at >= ?', f.from);
    if (f.to) add('d.created_at < ?', f.to);
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

  async insert(m: EntityManager, accountId: string, row: NewDocument): Promise<void> {
    await m.insert(DocumentEntity, { ...row, accountId });
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

  /** What the document's events carry; the contractor as the replica knows it now, or the copy made at creation. */
  async snapshot(m: EntityManager, doc: DocumentEntity): Promise<DocumentSnapshot> {
    const c = doc.contractorId ? await m.findOneBy(ContractorReplica, { id: doc.contractorId, accountId: doc.accountId }) : null;
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
      contractor: c ? { name: c.name, inn: c.inn, address: c.address } : doc.contractorCopy,
      templateId: doc.templateId,
      masks: doc.masks as Record<string, unknown>,
      sum: doc.sum,
      createdAt: doc.createdAt.toISOString(),
      updatedAt: doc.updatedAt.toISOString(),
    };
  }
}
