import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Organization1763700000200 implements MigrationInterface {
  name = 'Organization1763700000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization (
        account_id varchar(64) NOT NULL,
        inn varchar(12) NOT NULL,
        kpp varchar(9) NULL,
        ogrn varchar(15) NULL,
        name text NOT NULL,
        address text NULL,
        director text NULL,
        director_post text NULL,
        bank_accounts jsonb NOT NULL DEFAULT '[]'::jsonb,
        full_info jsonb NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_organization PRIMARY KEY (account_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE organization');
  }
}
