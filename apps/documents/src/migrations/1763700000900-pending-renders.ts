import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Documents still waiting for their file, oldest change first: the renderer's recovery sweep
 * (RenderQueue) finds those whose request was taken but never finished (a replica that died
 * with it in memory) without reading the whole table.
 */
export class PendingRenders1763700000900 implements MigrationInterface {
  name = 'PendingRenders1763700000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_document_pending ON document (updated_at) WHERE render_state = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_document_pending`);
  }
}
