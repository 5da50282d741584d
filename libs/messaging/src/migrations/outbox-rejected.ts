import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Outbox rows the broker refuses for good are set aside (rejected_at) instead of blocking the relay. */
export class OutboxRejected1763700000600 implements MigrationInterface {
  name = 'OutboxRejected1763700000600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN rejected_at timestamptz NULL`);
    await q.query(`DROP INDEX ix_outbox_unpublished`);
    await q.query(`CREATE INDEX ix_outbox_unpublished ON outbox (seq) WHERE published_at IS NULL AND rejected_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_outbox_unpublished`);
    await q.query(`CREATE INDEX ix_outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
    await q.query(`ALTER TABLE outbox DROP COLUMN rejected_at`);
  }
}
