import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { FinanceEntityType } from '@papka/contracts';

/**
 * The local side of reconciliation for a connector that lists nothing: what Papka expects the
 * target to hold, read from the read models and the connection's records and ledger only.
 */
@Injectable()
export class ReconciliationRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Live documents (created in [from, to]) and payments (dated in it) of the given types that the
   * connection takes (its record is not "not applicable"), whose record is not `synced` (or is
   * missing) or whose ledger still shows a call with an unknown outcome (`sending`).
   */
  async unsyncedLocal(accountId: string, connectionId: string, types: FinanceEntityType[], from: string, to: string): Promise<{ entityType: FinanceEntityType; entityId: string }[]> {
    const parts = [
      types.includes('document') && `SELECT 'document' AS entity_type, id FROM document_replica WHERE account_id = $1 AND NOT deleted AND left(doc_created_at, 10) BETWEEN $3 AND $4`,
      types.includes('payment') && `SELECT 'payment' AS entity_type, id FROM payment_replica WHERE account_id = $1 AND NOT removed AND date BETWEEN $3::date AND $4::date`,
    ].filter((x): x is string => typeof x === 'string');
    if (parts.length === 0) return [];
    const rows = (await this.ds.query(
      `SELECT e.entity_type, e.id FROM (${parts.join(' UNION ALL ')}) e
         JOIN finance_connection c ON c.id = $2 AND c.account_id = $1
         LEFT JOIN sync_record r ON r.connection_id = c.id AND r.account_id = $1 AND r.entity_type = e.entity_type AND r.entity_id = e.id
        WHERE NOT COALESCE(r.state = 'synced' AND r.remote_id IS NULL AND r.last_error LIKE 'not applicable:%', false)
          AND (r.id IS NULL OR r.state <> 'synced'
               OR EXISTS (SELECT 1 FROM sync_ledger l WHERE l.connection_id = c.id AND l.entity_id = e.id AND l.state = 'sending'))
        ORDER BY e.entity_type, e.id`,
      [accountId, connectionId, from, to],
    )) as { entity_type: FinanceEntityType; id: string }[];
    return rows.map((r) => ({ entityType: r.entity_type, entityId: r.id }));
  }
}
