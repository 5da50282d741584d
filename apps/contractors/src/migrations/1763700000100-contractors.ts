import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Contractors1763700000100 implements MigrationInterface {
  name = 'Contractors1763700000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`
      CREATE TABLE contractor (
        id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        type smallint NOT NULL,
        name text NOT NULL,
        inn varchar(12) NULL,
        address text NULL,
        full_info jsonb NULL,
        lookup_status varchar(16) NOT NULL DEFAULT 'none',
        lookup_attempts int NOT NULL DEFAULT 0,
        lookup_next_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_contractor PRIMARY KEY (id),
        CONSTRAINT ck_contractor_type CHECK (type IN (1, 2, 3))
      )`);
    // One contractor per INN within an account (409 on a duplicate).
    await q.query(`CREATE UNIQUE INDEX uq_contractor_account_inn ON contractor (account_id, inn) WHERE inn IS NOT NULL`);
    // The list: newest first, per account.
    await q.query(`CREATE INDEX ix_contractor_account_created ON contractor (account_id, created_at DESC, id DESC)`);
    // ?q= name search (ILIKE '%...%').
    await q.query(`CREATE INDEX ix_contractor_name_trgm ON contractor USING gin (lower(name) gin_trgm_ops)`);
    // Enrichment worker: pending look-ups that are due.
    await q.query(`CREATE INDEX ix_contractor_lookup_due ON contractor (lookup_next_at) WHERE lookup_status = 'pending'`);

    await q.query(`
      CREATE TABLE bank_account (
        id uuid NOT NULL,
        contractor_id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        bik varchar(9) NOT NULL,
        number varchar(20) NOT NULL,
        name text NOT NULL,
        full_info jsonb NULL,
        lookup_status varchar(16) NOT NULL DEFAULT 'none',
        lookup_attempts int NOT NULL DEFAULT 0,
        lookup_next_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_bank_account PRIMARY KEY (id),
        CONSTRAINT fk_bank_account_contractor FOREIGN KEY (contractor_id) REFERENCES contractor (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_bank_account_contractor_number ON bank_account (contractor_id, bik, number)`);
    await q.query(`CREATE INDEX ix_bank_account_lookup_due ON bank_account (lookup_next_at) WHERE lookup_status = 'pending'`);

    await q.query(`
      CREATE TABLE contact (
        id uuid NOT NULL,
        contractor_id uuid NOT NULL,
        account_id varchar(64) NOT NULL,
        fio text NOT NULL,
        phone text NULL,
        post text NULL,
        email text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_contact PRIMARY KEY (id),
        CONSTRAINT fk_contact_contractor FOREIGN KEY (contractor_id) REFERENCES contractor (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_contact_contractor ON contact (contractor_id, created_at)`);
    await q.query(`CREATE INDEX ix_bank_account_contractor ON bank_account (contractor_id, created_at)`);

    await q.query(`
      CREATE TABLE lookup_cache (
        kind varchar(16) NOT NULL,
        query varchar(32) NOT NULL,
        payload jsonb NULL,
        fetched_at timestamptz NOT NULL,
        CONSTRAINT pk_lookup_cache PRIMARY KEY (kind, query)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE lookup_cache');
    await q.query('DROP TABLE contact');
    await q.query('DROP TABLE bank_account');
    await q.query('DROP TABLE contractor');
  }
}
