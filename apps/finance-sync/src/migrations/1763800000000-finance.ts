import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * finance-sync's own tables: read models of contractors, interactions and payments (from
 * events), connections, per-entity records, the ledger written before every remote call, the
 * local <-> remote mapping and webhook receipts.
 */
export class Finance1763800000000 implements MigrationInterface {
  name = 'Finance1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE contractor_replica (
        id uuid CONSTRAINT pk_contractor_replica PRIMARY KEY,
        account_id text NOT NULL,
        name text NOT NULL,
        inn text,
        kpp text,
        address text,
        bank_accounts jsonb NOT NULL DEFAULT '[]',
        deleted boolean NOT NULL DEFAULT false,
        version bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX ix_contractor_replica_account ON contractor_replica (account_id)`);
    await q.query(`
      CREATE TABLE interaction_replica (
        id uuid CONSTRAINT pk_interaction_replica PRIMARY KEY,
        account_id text NOT NULL,
        contractor_id uuid NOT NULL,
        name text NOT NULL,
        sum bigint NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        version bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX ix_interaction_replica_account ON interaction_replica (account_id)`);
    await q.query(`
      CREATE TABLE payment_replica (
        id uuid CONSTRAINT pk_payment_replica PRIMARY KEY,
        account_id text NOT NULL,
        interaction_id uuid NOT NULL,
        type text NOT NULL,
        name text NOT NULL,
        sum bigint NOT NULL,
        date date NOT NULL,
        removed boolean NOT NULL DEFAULT false,
        version bigint NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX ix_payment_replica_account_date ON payment_replica (account_id, date)`);
    await q.query(`
      CREATE TABLE finance_connection (
        id uuid CONSTRAINT pk_finance_connection PRIMARY KEY,
        account_id text NOT NULL,
        target text NOT NULL,
        token_cipher text,
        settings jsonb NOT NULL DEFAULT '{}',
        connected boolean NOT NULL DEFAULT true,
        state text NOT NULL DEFAULT 'active' CONSTRAINT ck_finance_connection_state CHECK (state IN ('active', 'paused')),
        reason text,
        next_probe_at timestamptz,
        hook_token text NOT NULL CONSTRAINT uq_finance_connection_hook UNIQUE,
        webhook_url text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_finance_connection_account_target UNIQUE (account_id, target)
      )`);
    await q.query(`
      CREATE TABLE sync_record (
        id uuid CONSTRAINT pk_sync_record PRIMARY KEY DEFAULT gen_random_uuid(),
        connection_id uuid NOT NULL CONSTRAINT fk_sync_record_connection REFERENCES finance_connection (id),
        account_id text NOT NULL,
        entity_type text NOT NULL,
        entity_id uuid NOT NULL,
        op text NOT NULL DEFAULT 'upsert' CONSTRAINT ck_sync_record_op CHECK (op IN ('upsert', 'remove')),
        state text NOT NULL DEFAULT 'pending' CONSTRAINT ck_sync_record_state CHECK (state IN ('pending', 'synced', 'failed', 'parked')),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        remote_id text,
        content_hash text,
        -- What the target last got (content_hash when it was synced): a different content_hash means "update it".
        synced_hash text,
        -- Bumped by every re-queue: a worker finishing an older claim does not overwrite the newer state.
        revision int NOT NULL DEFAULT 0,
        backfill boolean NOT NULL DEFAULT false,
        due_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        synced_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_sync_record_entity UNIQUE (connection_id, entity_type, entity_id)
      )`);
    await q.query(`CREATE INDEX ix_sync_record_due ON sync_record (connection_id, due_at) WHERE state = 'pending'`);
    await q.query(`CREATE INDEX ix_sync_record_parked ON sync_record (connection_id) WHERE state = 'parked'`);
    await q.query(`CREATE INDEX ix_sync_record_list ON sync_record (account_id, updated_at DESC)`);
    await q.query(`
      CREATE TABLE sync_ledger (
        connection_id uuid NOT NULL CONSTRAINT fk_sync_ledger_connection REFERENCES finance_connection (id),
        op text NOT NULL,
        entity_id uuid NOT NULL,
        idempotency_key text NOT NULL,
        state text NOT NULL CONSTRAINT ck_sync_ledger_state CHECK (state IN ('sending', 'done', 'failed')),
        sends int NOT NULL DEFAULT 0,
        remote_id text,
        sent_at timestamptz,
        finished_at timestamptz,
        CONSTRAINT pk_sync_ledger PRIMARY KEY (connection_id, op, entity_id)
      )`);
    await q.query(`
      CREATE TABLE sync_mapping (
        connection_id uuid NOT NULL CONSTRAINT fk_sync_mapping_connection REFERENCES finance_connection (id),
        kind text NOT NULL,
        local_id uuid NOT NULL,
        remote_id text NOT NULL,
        parent_id uuid,
        origin text NOT NULL DEFAULT 'papka' CONSTRAINT ck_sync_mapping_origin CHECK (origin IN ('papka', 'remote')),
        remote_deleted boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_sync_mapping PRIMARY KEY (connection_id, kind, local_id)
      )`);
    await q.query(`CREATE INDEX ix_sync_mapping_remote ON sync_mapping (connection_id, kind, remote_id)`);
    await q.query(`
      CREATE TABLE webhook_receipt (
        connection_id uuid NOT NULL CONSTRAINT fk_webhook_receipt_connection REFERENCES finance_connection (id),
        event_id text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_webhook_receipt PRIMARY KEY (connection_id, event_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['webhook_receipt', 'sync_mapping', 'sync_ledger', 'sync_record', 'finance_connection', 'payment_replica', 'interaction_replica', 'contractor_replica']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
