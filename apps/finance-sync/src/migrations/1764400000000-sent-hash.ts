import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a record's objects were last sent with (a create or an update that ran, its outcome
 * known or not) while it was not synced yet: an object an earlier attempt made holds that
 * content, so the entity changed since is updated too, not only found (see the README, "A
 * create whose look-up finds it").
 */
export class SentHash1764400000000 implements MigrationInterface {
  name = 'SentHash1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sync_record ADD COLUMN IF NOT EXISTS sent_hash text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sync_record DROP COLUMN IF EXISTS sent_hash`);
  }
}
