import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The billing import (001): documents with their lines and payment-to-bill relations, keyed by
 * (connection, type, billing id), and one row per import run (its frozen date_to, where it got
 * to, its lease).
 */
export class Billing1764100000000 implements MigrationInterface {
  name = 'Billing1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE billing_document (
        id uuid CONSTRAINT pk_billing_document PRIMARY KEY,
        account_id text NOT NULL,
        connection_id uuid NOT NULL,
        type text NOT NULL,
        remote_id text NOT NULL,
        number text NOT NULL,
        sub_type text,
        status text,
        title text,
        description text,
        doc_date text NOT NULL,
        doc_at timestamptz NOT NULL,
        deadline text,
        vat_sum bigint NOT NULL,
        total_sum bigint NOT NULL,
        balance_sum bigint NOT NULL,
        raw jsonb NOT NULL,
        content_hash text NOT NULL,
        imported_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_billing_document_remote UNIQUE (connection_id, type, remote_id)
      )`);
    await q.query(`CREATE INDEX ix_billing_document_account_date ON billing_document (account_id, doc_at DESC, type, remote_id)`);
    await q.query(`CREATE INDEX ix_billing_document_open ON billing_document (connection_id, doc_at) WHERE type = 'BILL' AND status IN ('NEW', 'AWAITING_PAYMENT', 'PARTIALLY_PAID')`);
    await q.query(`
      CREATE TABLE billing_document_item (
        document_id uuid NOT NULL CONSTRAINT fk_billing_item_document REFERENCES billing_document (id) ON DELETE CASCADE,
        position int NOT NULL,
        num int NOT NULL,
        title text,
        description text,
        measure text,
        amount numeric,
        price bigint,
        total_sum bigint NOT NULL,
        CONSTRAINT pk_billing_document_item PRIMARY KEY (document_id, position)
      )`);
    await q.query(`
      CREATE TABLE billing_document_relation (
        document_id uuid NOT NULL CONSTRAINT fk_billing_relation_document REFERENCES billing_document (id) ON DELETE CASCADE,
        position int NOT NULL,
        related_type text NOT NULL,
        related_id text NOT NULL,
        title text,
        related_date text,
        relation_sum bigint NOT NULL,
        CONSTRAINT pk_billing_document_relation PRIMARY KEY (document_id, position)
      )`);
    await q.query(`CREATE INDEX ix_billing_relation_related ON billing_document_relation (related_type, related_id)`);
    await q.query(`
      CREATE TABLE billing_import (
        id uuid CONSTRAINT pk_billing_import PRIMARY KEY,
        account_id text NOT NULL,
        connection_id uuid NOT NULL,
        trigger text NOT NULL,
        state text NOT NULL,
        page_base smallint,
        date_to text,
        window_from text,
        open_from text,
        phase text NOT NULL DEFAULT 'window',
        next_page int NOT NULL DEFAULT 0,
        pages int NOT NULL DEFAULT 0,
        documents int NOT NULL DEFAULT 0,
        created int NOT NULL DEFAULT 0,
        updated int NOT NULL DEFAULT 0,
        attempts int NOT NULL DEFAULT 0,
        error text,
        lease_until timestamptz,
        resume_at timestamptz,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    // One unfinished import per connection: replicas that both find it due insert only one.
    await q.query(`CREATE UNIQUE INDEX ux_billing_import_unfinished ON billing_import (connection_id) WHERE state IN ('running', 'interrupted')`);
    await q.query(`CREATE INDEX ix_billing_import_connection ON billing_import (connection_id, started_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE billing_import`);
    await q.query(`DROP TABLE billing_document_relation`);
    await q.query(`DROP TABLE billing_document_item`);
    await q.query(`DROP TABLE billing_document`);
  }
}
