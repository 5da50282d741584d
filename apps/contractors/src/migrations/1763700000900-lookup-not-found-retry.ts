import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A look-up DaData answered "not found" is asked again once a day for a week (a company
 * registered minutes before its contractor was made is in the registry a day later): the
 * enrichment worker finds those due (an index of their own until 1763700001000, which serves both).
 */
export class LookupNotFoundRetry1763700000900 implements MigrationInterface {
  name = 'LookupNotFoundRetry1763700000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS ix_contractor_lookup_retry ON contractor (lookup_next_at) WHERE lookup_status = 'not_found'`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_bank_account_lookup_retry ON bank_account (lookup_next_at) WHERE lookup_status = 'not_found'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_bank_account_lookup_retry`);
    await q.query(`DROP INDEX IF EXISTS ix_contractor_lookup_retry`);
  }
}
