import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The organisation's default VAT for its documents (null: the base rate of the document's date),
 * and when the PUT that saved the row was received (a PUT received earlier may not overwrite it).
 */
export class OrganizationVat1763700000800 implements MigrationInterface {
  name = 'OrganizationVat1763700000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organization ADD COLUMN vat_rate varchar(4) NULL, ADD COLUMN received_at timestamptz NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE organization DROP COLUMN vat_rate, DROP COLUMN received_at');
  }
}
