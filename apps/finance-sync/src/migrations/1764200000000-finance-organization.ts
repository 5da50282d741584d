import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The account's own organisation (the seller on its documents), from `organization.updated` on
 * papka.contractors.v1: one row per account, versioned on the event's sequence.
 */
export class FinanceOrganization1764200000000 implements MigrationInterface {
  name = 'FinanceOrganization1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization_replica (
        account_id text CONSTRAINT pk_organization_replica PRIMARY KEY,
        name text NOT NULL,
        inn text NOT NULL,
        kpp text,
        version bigint NOT NULL DEFAULT 0
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS organization_replica`);
  }
}
