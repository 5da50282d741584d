import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The DMS's paid invoices are sent again once, now with their payment.
 *
 * Until this release an invoice changed after its payment (renamed, rendered again, its status
 * changed) went to the DMS as a document body with `Signed` from its status and no
 * `PaymentNumber`/`PaymentDate`: the record was un-signed, and a DMS whose upsert replaces the
 * record lost its payment too. A document's content hash now includes the payment that pays it
 * in full on the DMS's connections (`DocumentData.payment`), so what the DMS holds is repaired by
 * the next event of such a document; this does it for all of them now. Each synced DMS document
 * record whose document (of a sum above 0) is attached to a live interaction whose live income payments reach its sum
 * is queued again as changed (a `content_hash` that differs from `synced_hash`): the worker sends
 * it with what it is now, its payment fields with it when one pays it in full (the engine
 * decides, by the same rule as ever; this only picks the candidates), and records the real hash.
 * The next event of the document then queues it with that hash and finds nothing to send.
 */
export class DmsPaidInvoices1764600000000 implements MigrationInterface {
  name = 'DmsPaidInvoices1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE sync_record r
         SET state = 'pending', content_hash = 'requeued:dms-invoice-payment', revision = r.revision + 1, attempts = 0, last_error = NULL,
             waiting_for = NULL, due_at = now(), updated_at = now()
        FROM finance_connection c
       WHERE c.id = r.connection_id AND c.target = 'dms'
         AND r.entity_type = 'document' AND r.op = 'upsert' AND r.state = 'synced' AND r.remote_id IS NOT NULL AND r.synced_hash IS NOT NULL
         AND EXISTS (
           SELECT 1 FROM interaction_document l
             JOIN document_replica d ON d.id = l.document_id AND d.account_id = l.account_id AND NOT d.deleted AND d.sum > 0
             JOIN interaction_replica i ON i.id = l.interaction_id AND i.account_id = l.account_id AND NOT i.deleted
            WHERE l.document_id = r.entity_id AND l.account_id = r.account_id
              AND (SELECT COALESCE(sum(p.sum), 0) FROM payment_replica p
                    WHERE p.account_id = l.account_id AND p.interaction_id = l.interaction_id AND p.type = 'income' AND NOT p.removed) >= d.sum)`);
  }

  async down(): Promise<void> {
    // Nothing to undo: the records were only queued again.
  }
}
