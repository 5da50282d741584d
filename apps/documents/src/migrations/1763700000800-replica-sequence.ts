import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Replicas are versioned by the producer's per-aggregate sequence (EventEnvelope.sequence)
 * instead of the event's wall-clock time, which one event dated 2999 could freeze for good.
 * Existing rows start at 0, so the next event of each aggregate applies.
 */
export class ReplicaSequence1763700000800 implements MigrationInterface {
  name = 'ReplicaSequence1763700000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contractor_replica ALTER COLUMN version TYPE bigint USING 0`);
    await q.query(`ALTER TABLE organization_replica ALTER COLUMN version TYPE bigint USING 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE contractor_replica ALTER COLUMN version TYPE timestamptz USING 'epoch'::timestamptz`);
    await q.query(`ALTER TABLE organization_replica ALTER COLUMN version TYPE timestamptz USING 'epoch'::timestamptz`);
  }
}
