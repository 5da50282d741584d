import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/** Webhook receipts: one per (connection, the target's event id). */
@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async seen(accountId: string, connectionId: string, eventId: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `SELECT 1 FROM webhook_receipt w JOIN finance_connection c ON c.id = w.connection_id WHERE w.connection_id = $2 AND c.account_id = $1 AND w.event_id = $3`,
      [accountId, connectionId, eventId],
    );
    return rows.length > 0;
  }

  /** Committed with the delivery's effect; false when another delivery of the event got there first. */
  async receive(m: EntityManager, accountId: string, connectionId: string, eventId: string): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO webhook_receipt (connection_id, event_id) SELECT c.id, $3 FROM finance_connection c WHERE c.id = $2 AND c.account_id = $1
       ON CONFLICT (connection_id, event_id) DO NOTHING RETURNING 1`,
      [accountId, connectionId, eventId],
    );
    return rows.length > 0;
  }

  /** A record for an entity that came from the target: synced from the start, so nothing pushes it back. */
  async recordImported(m: EntityManager, accountId: string, connectionId: string, entityId: string, remoteId: string): Promise<void> {
    await m.query(
      `INSERT INTO sync_record (connection_id, account_id, entity_type, entity_id, op, state, remote_id, content_hash, synced_at)
       VALUES ($2, $1, 'payment', $3, 'upsert', 'synced', $4, 'create', now())
       ON CONFLICT (connection_id, entity_type, entity_id) DO NOTHING`,
      [accountId, connectionId, entityId, remoteId],
    );
  }
}
