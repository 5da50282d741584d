import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The objects an entity holds in a target (an Adesk contractor's requisites, one per bank
 * account) are read by their parent when the entity syncs, so that one no longer there (a
 * removed bank account) is removed in the target too. An interaction's payments are read by
 * the interaction (which one pays its invoice in full; the payments its new invoice applies to).
 */
export class MappingParent1764300000000 implements MigrationInterface {
  name = 'MappingParent1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS ix_sync_mapping_parent ON sync_mapping (connection_id, parent_id) WHERE parent_id IS NOT NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_payment_replica_interaction ON payment_replica (account_id, interaction_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_payment_replica_interaction`);
    await q.query(`DROP INDEX IF EXISTS ix_sync_mapping_parent`);
  }
}
