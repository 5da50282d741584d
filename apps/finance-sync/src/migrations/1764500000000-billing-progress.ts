import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The billing import's real progress and its set-aside documents.
 *
 * - `billing_import.seen`: the documents read so far in the current range (phase), stored with
 *   each page. A resumed run used to count its earlier pages as 100 documents each, so on a
 *   billing that answers shorter pages (its own cap) it reached `recordsTotal` early and ended
 *   `done` with the oldest documents never read. A run unfinished when this runs starts at 0:
 *   it then reads on to an empty page, which re-reads at most a few pages and skips none.
 * - `billing_import.rejected`: the documents the run set aside.
 * - `billing_rejected`: one row per (connection, `TYPE:id`) the parser could not map (a status
 *   001 does not list, an unreadable date or sum), with the reason and the document as sent;
 *   removed when that document is read and stored. The rest of its page is imported.
 */
export class BillingProgress1764500000000 implements MigrationInterface {
  name = 'BillingProgress1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE billing_import ADD COLUMN IF NOT EXISTS seen int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE billing_import ADD COLUMN IF NOT EXISTS rejected int NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS billing_rejected (
        account_id text NOT NULL,
        connection_id uuid NOT NULL,
        doc_key text NOT NULL,
        type text,
        remote_id text,
        doc_date text,
        reason text NOT NULL,
        raw jsonb,
        import_id uuid,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_billing_rejected PRIMARY KEY (connection_id, doc_key)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_billing_rejected_account ON billing_rejected (account_id, last_seen_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS billing_rejected`);
    await q.query(`ALTER TABLE billing_import DROP COLUMN IF EXISTS rejected`);
    await q.query(`ALTER TABLE billing_import DROP COLUMN IF EXISTS seen`);
  }
}
