import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { moscowInstantSql } from '@papka/persistence';
import type {
  InteractionDocumentSnapshot,
  InteractionFileSnapshot,
  InteractionSnapshot,
  InteractionStatus,
  InteractionView,
  PaymentSnapshot,
  PaymentType,
  Window,
} from '@papka/contracts';
import { kopecksToRubles } from '@papka/ru';

/** What a command learns from the row it locks. */
export interface LockedInteraction {
  contractorId: string;
  status: InteractionStatus;
  /** Income minus outcome, kopecks. */
  paidSum: number;
}

export interface InteractionFilter {
  contractorId?: string;
  status?: number;
  from?: string;
  to?: string;
}

interface DocJson { id: string; name: string; type: string; status: number; filename: string | null; masks: unknown; sum: number; createdAt: string }
interface FileJson { uuid: string; filename: string; name: string; contentType: string | null; size: number; createdAt: string }
interface PaymentJson { uuid: string; type: PaymentType; name: string; sum: number; date: string; contractorBank: PaymentSnapshot['contractorBank']; createdAt: string }

interface Row {
  id: string;
  contractor_id: string;
  name: string;
  description: string;
  sum: string;
  status: number;
  paid_sum: string;
  payments_count: number;
  created_at: Date;
  updated_at: Date;
  c_name: string;
  c_inn: string | null;
  c_address: string | null;
  documents: DocJson[];
  files: FileJson[];
}

/** A view row also has its payments: the public API answers them all. */
interface ViewRow extends Row {
  payments: PaymentJson[];
}

const iso = (v: string | Date) => new Date(v).toISOString();

/**
 * One statement per list: the interaction, its contractor from the read model, and its
 * documents (from the document read model; deleted ones drop out) and files aggregated as JSON
 * by PostgreSQL, so a page costs one round trip whatever its size. `source` yields the
 * interaction rows: for a list, the page is cut there first, so the JSON is built for the rows
 * returned only, not for every row an OFFSET skips.
 *
 * The payments are aggregated for the public view only (`withPayments`): the snapshot events
 * carry takes their count and totals from the interaction row (`payments_count`, `paid_sum`,
 * kept by a trigger on interaction_payment), so neither an event's size nor a payment write's
 * cost grows with the number of payments.
 */
const select = (source: string, withPayments: boolean) => `
  SELECT i.id, i.contractor_id, i.name, i.description, i.sum, i.status, i.paid_sum, i.payments_count, i.created_at, i.updated_at,
         c.name AS c_name, c.inn AS c_inn, c.address AS c_address,
         COALESCE((SELECT json_agg(json_build_object('id', d.id, 'name', d.name, 'type', d.type, 'status', d.status,
                                   'filename', d.filename, 'masks', d.masks, 'sum', d.sum, 'createdAt', d.created_at)
                                   ORDER BY l.attached_at, d.id)
                     FROM interaction_document l JOIN document_replica d ON d.id = l.document_id AND d.account_id = i.account_id AND NOT d.deleted
                    WHERE l.interaction_id = i.id), '[]') AS documents,
         COALESCE((SELECT json_agg(json_build_object('uuid', f.id, 'filename', f.filename, 'name', f.name,
                                   'contentType', f.content_type, 'size', f.size, 'createdAt', f.created_at)
                                   ORDER BY f.created_at, f.id)
                     FROM interaction_file f WHERE f.interaction_id = i.id), '[]') AS files${
                       withPayments
                         ? `,
         COALESCE((SELECT json_agg(json_build_object('uuid', p.id, 'type', p.type, 'name', p.name, 'sum', p.sum,
                                   'date', p.date, 'contractorBank', p.contractor_bank, 'createdAt', p.created_at)
                                   ORDER BY p.date, p.created_at, p.id)
                     FROM interaction_payment p WHERE p.interaction_id = i.id), '[]') AS payments`
                         : ''
                     }
    FROM ${source} i JOIN contractor_replica c ON c.id = i.contractor_id AND c.account_id = i.account_id`;

function toSnapshot(r: Row): InteractionSnapshot {
  const documents: InteractionDocumentSnapshot[] = r.documents.map((d) => ({
    id: d.id,
    name: d.name,
    type: d.type,
    status: d.status,
    filename: d.filename,
    sum: Number(d.sum),
    createdAt: iso(d.createdAt),
  }));
  const files: InteractionFileSnapshot[] = r.files.map((f) => ({ ...f, size: Number(f.size), createdAt: iso(f.createdAt) }));
  const sum = Number(r.sum);
  const paidSum = Number(r.paid_sum);
  return {
    uuid: r.id,
    contractorId: r.contractor_id,
    contractor: { name: r.c_name, inn: r.c_inn, address: r.c_address },
    name: r.name,
    description: r.description,
    status: r.status as InteractionStatus,
    sum,
    paidSum,
    balance: sum - paidSum,
    paymentsCount: Number(r.payments_count),
    documents,
    files,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

const toPayments = (r: ViewRow): PaymentSnapshot[] => r.payments.map((p) => ({ ...p, sum: Number(p.sum), createdAt: iso(p.createdAt) }));

/** The public (reference 000) shape: rubles, `documents[].information`, masks as a JSON string. */
export function toView(s: InteractionSnapshot, payments: PaymentSnapshot[], masks: Map<string, unknown>): InteractionView {
  return {
    uuid: s.uuid,
    contractor: s.contractor,
    name: s.name,
    description: s.description,
    documents: s.documents.map((d) => ({
      id: d.id,
      information: {
        name: d.name,
        filename: d.filename,
        masks: JSON.stringify(masks.get(d.id) ?? {}),
        status: d.status,
        sum: kopecksToRubles(d.sum),
        createdAt: d.createdAt,
      },
    })),
    files: s.files,
    payments: payments.map((p) => ({
      uuid: p.uuid,
      type: p.type,
      name: p.name,
      sum: kopecksToRubles(p.sum),
      date: p.date,
      contractorBank: p.contractorBank?.uuid ?? null,
      createdAt: p.createdAt,
    })),
    sum: kopecksToRubles(s.sum),
    paidSum: kopecksToRubles(s.paidSum),
    balance: kopecksToRubles(s.balance),
    status: s.status,
    contractorId: s.contractorId,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

const masksOf = (rows: Row[]) => new Map(rows.flatMap((r) => r.documents.map((d) => [d.id, d.masks] as const)));

/*
 * The interaction's row lock, its snapshot and its updated_at: every feature that changes an
 * interaction (its payments, attachments, the document read model) goes through these, so
 * they live here once; the feature repositories call them.
 */

/** Locks the interaction for the rest of the transaction; null when absent or another account's. */
export async function lockInteraction(m: EntityManager, accountId: string, id: string): Promise<LockedInteraction | null> {
  const [row] = (await m.query(`SELECT contractor_id, status, paid_sum FROM interaction WHERE id = $1 AND account_id = $2 FOR UPDATE`, [id, accountId])) as {
    contractor_id: string;
    status: InteractionStatus;
    paid_sum: string;
  }[];
  return row ? { contractorId: row.contractor_id, status: row.status, paidSum: Number(row.paid_sum) } : null;
}

/** The snapshot (kopecks, payment totals, no payments) for events, read through the caller's transaction. */
export async function readSnapshot(m: EntityManager, accountId: string, id: string): Promise<InteractionSnapshot> {
  const rows: Row[] = await m.query(`${select('interaction', false)} WHERE i.id = $1 AND i.account_id = $2`, [id, accountId]);
  if (!rows[0]) throw new Error(`interaction ${id} vanished inside its transaction`);
  return toSnapshot(rows[0]);
}

export async function touchInteraction(m: EntityManager, accountId: string, id: string): Promise<void> {
  await m.query(`UPDATE interaction SET updated_at = now() WHERE id = $1 AND account_id = $2`, [id, accountId]);
}

/** The interaction itself: its row, the list and the view. */
@Injectable()
export class InteractionsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async list(accountId: string, f: InteractionFilter, w: Window): Promise<InteractionView[]> {
    const params: unknown[] = [accountId];
    const where = ['i.account_id = $1'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.contractorId) add('i.contractor_id = ?', f.contractorId);
    if (f.status !== undefined) add('i.status = ?', f.status);
    if (f.from) add(`i.created_at >= ${moscowInstantSql('?', f.from)}`, f.from);
    if (f.to) add(`i.created_at < ${moscowInstantSql('?', f.to)}`, f.to);
    params.push(w.take, w.skip);
    const rows: ViewRow[] = await this.ds.query(
      `${select(`(SELECT * FROM interaction i WHERE ${where.join(' AND ')}
                    ORDER BY i.created_at DESC, i.id DESC LIMIT $${params.length - 1} OFFSET $${params.length})`, true)}
        ORDER BY i.created_at DESC, i.id DESC`,
      params,
    );
    const masks = masksOf(rows);
    return rows.map((r) => toView(toSnapshot(r), toPayments(r), masks));
  }

  async view(accountId: string, id: string): Promise<InteractionView | null> {
    const rows: ViewRow[] = await this.ds.query(`${select('interaction', true)} WHERE i.account_id = $1 AND i.id = $2`, [accountId, id]);
    return rows[0] ? toView(toSnapshot(rows[0]), toPayments(rows[0]), masksOf(rows)) : null;
  }

  lock(m: EntityManager, accountId: string, id: string): Promise<LockedInteraction | null> {
    return lockInteraction(m, accountId, id);
  }

  snapshot(m: EntityManager, accountId: string, id: string): Promise<InteractionSnapshot> {
    return readSnapshot(m, accountId, id);
  }

  async insert(m: EntityManager, accountId: string, row: { id: string; contractorId: string; name: string; sum: number }): Promise<void> {
    await m.query(`INSERT INTO interaction (id, account_id, contractor_id, name, sum, status) VALUES ($1, $2, $3, $4, $5, 1)`, [
      row.id,
      accountId,
      row.contractorId,
      row.name,
      row.sum,
    ]);
  }

  /** Sets what is given (null keeps the current value); false when nothing changed. */
  async update(m: EntityManager, accountId: string, id: string, change: { name: string | null; sum: number | null }): Promise<boolean> {
    const [, changed] = (await m.query(
      `UPDATE interaction SET name = COALESCE($3, name), sum = COALESCE($4, sum), updated_at = now()
        WHERE id = $1 AND account_id = $2 AND (name IS DISTINCT FROM COALESCE($3, name) OR sum IS DISTINCT FROM COALESCE($4, sum))`,
      [id, accountId, change.name, change.sum],
    )) as [unknown, number];
    return changed > 0;
  }

  /** False when the description was that already. */
  async setDescription(m: EntityManager, accountId: string, id: string, description: string): Promise<boolean> {
    const [, changed] = (await m.query(
      `UPDATE interaction SET description = $3, updated_at = now() WHERE id = $1 AND account_id = $2 AND description <> $3`,
      [id, accountId, description],
    )) as [unknown, number];
    return changed > 0;
  }

  async setStatus(m: EntityManager, accountId: string, id: string, status: InteractionStatus): Promise<void> {
    await m.query(`UPDATE interaction SET status = $3, updated_at = now() WHERE id = $1 AND account_id = $2`, [id, accountId, status]);
  }

  /** Its payments, links and files go with it (ON DELETE CASCADE). */
  async delete(m: EntityManager, accountId: string, id: string): Promise<void> {
    await m.query(`DELETE FROM interaction WHERE id = $1 AND account_id = $2`, [id, accountId]);
  }
}
