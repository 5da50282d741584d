import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The file sweep (OrphanFiles) asks, for each stored object, whether a document or an upload
 * refers to it: by `storage_key`, which had no index.
 */
export class StorageKeyIndex1763700001000 implements MigrationInterface {
  name = 'StorageKeyIndex1763700001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_document_storage_key ON document (storage_key) WHERE storage_key IS NOT NULL`);
    await q.query(`CREATE INDEX ix_upload_storage_key ON upload (storage_key)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_upload_storage_key`);
    await q.query(`DROP INDEX ix_document_storage_key`);
  }
}
