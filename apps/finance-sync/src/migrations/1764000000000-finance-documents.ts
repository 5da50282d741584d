import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The engine for every target: the document read model (from papka.documents.v1) and which
 * interaction each document is attached to (from the interaction events), what MoySklad needs
 * of a contractor, the dependency a parked record waits for, and connections without webhooks.
 */
export class FinanceDocuments1764000000000 implements MigrationInterface {
  name = 'FinanceDocuments1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE document_replica (
        id uuid CONSTRAINT pk_document_replica PRIMARY KEY,
        account_id text NOT NULL,
        type text NOT NULL,
        template_id uuid,
        name text NOT NULL,
        sum bigint NOT NULL DEFAULT 0,
        masks jsonb NOT NULL DEFAULT '{}',
        status int NOT NULL,
        render_state text NOT NULL,
        storage_key text,
        filename text,
        content_type text,
        contractor_id uuid,
        contractor jsonb,
        doc_created_at text NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        version bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX ix_document_replica_account ON document_replica (account_id)`);
    await q.query(`
      CREATE TABLE interaction_document (
        account_id text NOT NULL,
        interaction_id uuid NOT NULL,
        document_id uuid NOT NULL,
        attached_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_interaction_document PRIMARY KEY (interaction_id, document_id)
      )`);
    await q.query(`CREATE INDEX ix_interaction_document_document ON interaction_document (document_id)`);
    await q.query(`ALTER TABLE contractor_replica ADD COLUMN type int NOT NULL DEFAULT 2, ADD COLUMN ogrn text, ADD COLUMN legal_name text, ADD COLUMN legal_address text`);
    // `<kind>:<local id>` of the mapping a parked record waits for: released when that one is mapped.
    await q.query(`ALTER TABLE sync_record ADD COLUMN waiting_for text`);
    await q.query(`CREATE INDEX ix_sync_record_waiting ON sync_record (connection_id, waiting_for) WHERE state = 'parked'`);
    await q.query(`ALTER TABLE finance_connection ALTER COLUMN webhook_url DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE finance_connection SET webhook_url = '' WHERE webhook_url IS NULL`);
    await q.query(`ALTER TABLE finance_connection ALTER COLUMN webhook_url SET NOT NULL`);
    await q.query(`DROP INDEX IF EXISTS ix_sync_record_waiting`);
    await q.query(`ALTER TABLE sync_record DROP COLUMN IF EXISTS waiting_for`);
    await q.query(`ALTER TABLE contractor_replica DROP COLUMN IF EXISTS type, DROP COLUMN IF EXISTS ogrn, DROP COLUMN IF EXISTS legal_name, DROP COLUMN IF EXISTS legal_address`);
    await q.query(`DROP TABLE IF EXISTS interaction_document`);
    await q.query(`DROP TABLE IF EXISTS document_replica`);
  }
}
