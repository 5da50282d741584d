import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-aggregate event numbers (EventEnvelope.sequence), assigned by writeToOutbox in the
 * producer's transaction. Replicas order by them instead of the wall clock.
 */
export class AggregateSequence1763700000700 implements MigrationInterface {
  name = 'AggregateSequence1763700000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE aggregate_sequence (
        aggregate_id text NOT NULL,
        seq bigint NOT NULL,
        CONSTRAINT pk_aggregate_sequence PRIMARY KEY (aggregate_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE aggregate_sequence');
  }
}
