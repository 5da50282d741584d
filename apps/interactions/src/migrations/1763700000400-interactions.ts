import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Interactions1763700000400 implements MigrationInterface {
  name = 'Interactions1763700000400';

  async up(q: QueryRunner): Promise<void> {
    // Read models, fed by contractor and document events. Rows are never removed: a deleted
    // contractor keeps its last name, a deleted document stays as a tombstone so a late event
    // cannot bring it back. `version` is the event applied last (its sequence since ReplicaSequence1763700000800).
    await q.query(`
      CREATE TABLE contractor_replica (
        id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        name text NOT NULL,
        inn varchar(12) NULL,
        address text NULL,
        bank_accounts jsonb NOT NULL DEFAULT '[]'::jsonb,
        deleted boolean NOT NULL DEFAULT false,
        version timestamptz NOT NULL,
        CONSTRAINT pk_contractor_replica PRIMARY KEY (id)
      )`);
    await q.query(`
      CREATE TABLE document_replica (
        id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        name text NOT NULL,
        type varchar(100) NOT NULL,
        status smallint NOT NULL,
        render_state varchar(16) NOT NULL,
        filename varchar(100) NULL,
        content_type text NULL,
        storage_key text NULL,
        masks jsonb NOT NULL DEFAULT '{}'::jsonb,
        sum bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        version timestamptz NOT NULL,
        CONSTRAINT pk_document_replica PRIMARY KEY (id)
      )`);
    await q.query(`
      CREATE TABLE interaction (
        id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        contractor_id uuid NOT NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        sum bigint NOT NULL,
        status smallint NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_interaction PRIMARY KEY (id),
        CONSTRAINT ck_interaction_sum CHECK (sum >= 0),
        CONSTRAINT ck_interaction_status CHECK (status BETWEEN 1 AND 5)
      )`);
    // The list (newest first) and its filters.
    await q.query(`CREATE INDEX ix_interaction_account_created ON interaction (account_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_interaction_account_contractor ON interaction (account_id, contractor_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_interaction_account_status ON interaction (account_id, status, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE interaction_payment (
        id uuid NOT NULL,
        interaction_id uuid NOT NULL,
        type varchar(8) NOT NULL,
        name text NOT NULL,
        sum bigint NOT NULL,
        date date NOT NULL,
        contractor_bank jsonb NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_interaction_payment PRIMARY KEY (id),
        CONSTRAINT fk_interaction_payment FOREIGN KEY (interaction_id) REFERENCES interaction (id) ON DELETE CASCADE,
        CONSTRAINT ck_interaction_payment_type CHECK (type IN ('income', 'outcome')),
        CONSTRAINT ck_interaction_payment_sum CHECK (sum > 0)
      )`);
    await q.query(`CREATE INDEX ix_interaction_payment_interaction ON interaction_payment (interaction_id, date, created_at)`);
    await q.query(`
      CREATE TABLE interaction_document (
        interaction_id uuid NOT NULL,
        document_id uuid NOT NULL,
        attached_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_interaction_document PRIMARY KEY (interaction_id, document_id),
        CONSTRAINT fk_interaction_document FOREIGN KEY (interaction_id) REFERENCES interaction (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_interaction_document_document ON interaction_document (document_id)`);
    await q.query(`
      CREATE TABLE interaction_file (
        id uuid NOT NULL,
        interaction_id uuid NOT NULL,
        filename varchar(100) NOT NULL,
        name text NOT NULL,
        content_type text NULL,
        size bigint NOT NULL,
        storage_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_interaction_file PRIMARY KEY (id),
        CONSTRAINT fk_interaction_file FOREIGN KEY (interaction_id) REFERENCES interaction (id) ON DELETE CASCADE,
        CONSTRAINT uq_interaction_file UNIQUE (interaction_id, filename)
      )`);

  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['interaction_file', 'interaction_document', 'interaction_payment', 'interaction', 'document_replica', 'contractor_replica']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
