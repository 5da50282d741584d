import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Documents1763700000300 implements MigrationInterface {
  name = 'Documents1763700000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE contractor_replica (
        id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        name text NOT NULL,
        inn varchar(12) NULL,
        address text NULL,
        snapshot jsonb NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        version timestamptz NOT NULL,
        CONSTRAINT pk_contractor_replica PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX ix_contractor_replica_account ON contractor_replica (account_id)`);
    await q.query(`
      CREATE TABLE organization_replica (
        account_id varchar(64) NOT NULL,
        snapshot jsonb NOT NULL,
        version timestamptz NOT NULL,
        CONSTRAINT pk_organization_replica PRIMARY KEY (account_id)
      )`);
    await q.query(`
      CREATE TABLE upload (
        id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        filename varchar(100) NOT NULL,
        original_name text NOT NULL,
        kind varchar(16) NOT NULL,
        content_type text NOT NULL,
        size bigint NOT NULL,
        storage_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_upload PRIMARY KEY (id),
        CONSTRAINT uq_upload_account_filename UNIQUE (account_id, filename)
      )`);
    await q.query(`
      CREATE TABLE template (
        id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        name text NOT NULL,
        filename varchar(100) NOT NULL,
        kind varchar(8) NOT NULL,
        masks jsonb NOT NULL,
        font text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_template PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX ix_template_account_created ON template (account_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE document (
        id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        name text NOT NULL,
        type varchar(100) NOT NULL,
        status smallint NOT NULL,
        render_state varchar(16) NOT NULL,
        render_error text NULL,
        revision int NOT NULL DEFAULT 1,
        template_id uuid NULL,
        source_filename varchar(100) NULL,
        contractor_id uuid NULL,
        contractor_copy jsonb NULL,
        masks jsonb NOT NULL DEFAULT '{}'::jsonb,
        sum bigint NOT NULL DEFAULT 0,
        filename varchar(100) NULL,
        content_type text NULL,
        storage_key text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_document PRIMARY KEY (id),
        CONSTRAINT ck_document_status CHECK (status BETWEEN 1 AND 5),
        CONSTRAINT ck_document_render_state CHECK (render_state IN ('pending', 'rendered', 'failed'))
      )`);
    // The list (newest first) and its filters.
    await q.query(`CREATE INDEX ix_document_account_created ON document (account_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_document_account_contractor ON document (account_id, contractor_id, created_at DESC)`);
    await q.query(`CREATE INDEX ix_document_account_status ON document (account_id, status, created_at DESC)`);
    await q.query(`CREATE INDEX ix_document_account_type ON document (account_id, type, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['document', 'template', 'upload', 'organization_replica', 'contractor_replica']) await q.query(`DROP TABLE ${t}`);
  }
}
