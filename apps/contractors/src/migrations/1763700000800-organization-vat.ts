import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The organisation's default VAT for its documents (null: the base rate of the document's date);
 * when the PUT that saved the row was received (a PUT received earlier may not overwrite it); and
 * look-ups to retry, as contractors have them: a PUT made while the provider was down leaves the
 * party or a bank account without its details, and the enrichment worker fills them in later.
 * Rows saved during an outage before this are marked for it too.
 */
export class OrganizationVat1763700000800 implements MigrationInterface {
  name = 'OrganizationVat1763700000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE organization
        ADD COLUMN vat_rate varchar(4) NULL,
        ADD COLUMN received_at timestamptz NULL,
        ADD COLUMN lookup_status varchar(16) NOT NULL DEFAULT 'ok',
        ADD COLUMN lookup_attempts int NOT NULL DEFAULT 0,
        ADD COLUMN lookup_next_at timestamptz NULL`);
    await q.query(`
      UPDATE organization SET lookup_status = 'pending', lookup_next_at = now()
       WHERE full_info IS NULL
          OR EXISTS (SELECT 1 FROM jsonb_array_elements(bank_accounts) b WHERE coalesce(b->'fullInfo', 'null'::jsonb) = 'null'::jsonb)`);
    await q.query(`CREATE INDEX ix_organization_lookup_due ON organization (lookup_next_at) WHERE lookup_status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX ix_organization_lookup_due');
    await q.query('ALTER TABLE organization DROP COLUMN vat_rate, DROP COLUMN received_at, DROP COLUMN lookup_status, DROP COLUMN lookup_attempts, DROP COLUMN lookup_next_at');
  }
}
