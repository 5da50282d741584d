import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The organisation's default VAT for its documents (null: the base rate of the document's date). */
export class OrganizationVat1763700000800 implements MigrationInterface {
  name = 'OrganizationVat1763700000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organization ADD COLUMN vat_rate varchar(4) NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE organization DROP COLUMN vat_rate');
  }
}
