import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { FinanceEntityType, FinanceTarget, RecordState, RecordView } from '@papka/contracts';

export interface RecordFilter {
  target?: FinanceTarget;
  state?: RecordState;
  entityType?: FinanceEntityType;
  entityId?: string;
  page: number;
  size: number;
}

/** Per-entity sync records as the account sees them (connected or not: what was synced stays visible). */
@Injectable()
export class RecordsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async list(accountId: string, f: RecordFilter): Promise<RecordView[]> {
    const rows = (await this.ds.query(
      `SELECT c.target, r.entity_type, r.entity_id, r.state, r.attempts, r.last_error, r.remote_id, r.synced_at, r.updated_at
         FROM sync_record r JOIN finance_connection c ON c.id = r.connection_id
        WHERE r.account_id = $1 AND c.account_id = $1
          AND ($2::text IS NULL OR c.target = $2) AND ($3::text IS NULL OR r.state = $3)
          AND ($4::text IS NULL OR r.entity_type = $4) AND ($5::uuid IS NULL OR r.entity_id = $5)
        ORDER BY r.updated_at DESC, r.id LIMIT $6 OFFSET $7`,
      [accountId, f.target ?? null, f.state ?? null, f.entityType ?? null, f.entityId ?? null, f.size, (f.page - 1) * f.size],
    )) as {
      target: FinanceTarget;
      entity_type: FinanceEntityType;
      entity_id: string;
      state: RecordState;
      attempts: number;
      last_error: string | null;
      remote_id: string | null;
      synced_at: Date | null;
      updated_at: Date;
    }[];
    return rows.map((r) => ({
      target: r.target,
      entityType: r.entity_type,
      entityId: r.entity_id,
      state: r.state,
      attempts: r.attempts,
      lastError: r.last_error,
      remoteId: r.remote_id,
      syncedAt: r.synced_at ? new Date(r.synced_at).toISOString() : null,
      updatedAt: new Date(r.updated_at).toISOString(),
    }));
  }

  /** Queues failed (or the given) records of the account's connection to the target again, now; answers how many. */
  async retry(accountId: string, target: FinanceTarget, ids: string[] | null): Promise<number> {
    const [rows] = (await this.ds.query(
      `UPDATE sync_record r SET state = 'pending', attempts = 0, due_at = now(), revision = r.revision + 1, updated_at = now()
         FROM finance_connection c
        WHERE c.id = r.connection_id AND c.account_id = $1 AND r.account_id = $1 AND c.target = $2 AND c.connected
          AND (CASE WHEN $3::uuid[] IS NULL THEN r.state = 'failed' ELSE r.entity_id = ANY($3::uuid[]) AND r.state <> 'synced' END)
       RETURNING 1`,
      [accountId, target, ids],
    )) as [unknown[], number];
    return rows.length;
  }
}
