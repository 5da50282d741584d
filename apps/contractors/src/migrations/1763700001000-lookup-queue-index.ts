import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The enrichment worker reads what is due with `lookup_status IN ('pending', 'not_found')`,
 * which neither partial index of 100 (`= 'pending'`) nor of 900 (`= 'not_found'`) can serve:
 * PostgreSQL scanned the whole table, every pass, on every replica. One partial index per
 * table on exactly that condition replaces the four.
 */
export class LookupQueueIndex1763700001000 implements MigrationInterface {
  name = 'LookupQueueIndex1763700001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS ix_contractor_lookup_queue ON contractor (lookup_next_at) WHERE lookup_status IN ('pending', 'not_found')`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_bank_account_lookup_queue ON bank_account (lookup_next_at) WHERE lookup_status IN ('pending', 'not_found')`);
    for (const ix of ['ix_contractor_lookup_due', 'ix_contractor_lookup_retry', 'ix_bank_account_lookup_due', 'ix_bank_account_lookup_retry']) {
      await q.query(`DROP INDEX IF EXISTS ${ix}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS ix_contractor_lookup_due ON contractor (lookup_next_at) WHERE lookup_status = 'pending'`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_bank_account_lookup_due ON bank_account (lookup_next_at) WHERE lookup_status = 'pending'`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_contractor_lookup_retry ON contractor (lookup_next_at) WHERE lookup_status = 'not_found'`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_bank_account_lookup_retry ON bank_account (lookup_next_at) WHERE lookup_status = 'not_found'`);
    await q.query(`DROP INDEX IF EXISTS ix_bank_account_lookup_queue`);
    await q.query(`DROP INDEX IF EXISTS ix_contractor_lookup_queue`);
  }
}
