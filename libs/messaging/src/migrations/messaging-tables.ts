import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox and inbox tables. Every service that publishes or consumes events lists this
 * migration before its own ones.
 */
export class MessagingTables1763700000000 implements MigrationInterface {
  name = 'MessagingTables1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id uuid NOT NULL,
        seq bigserial NOT NULL,
        topic text NOT NULL,
        key text NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz NULL,
        attempts int NOT NULL DEFAULT 0,
        last_error text NULL,
        CONSTRAINT pk_outbox PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX ix_outbox_unpublished ON outbox (seq) WHERE published_at IS NULL`);
    await q.query(`CREATE INDEX ix_outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL`);
    await q.query(`
      CREATE TABLE inbox (
        consumer_group text NOT NULL,
        event_id uuid NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_inbox PRIMARY KEY (consumer_group, event_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE inbox');
    await q.query('DROP TABLE outbox');
  }
}

export { OutboxRejected1763700000600 } from './outbox-rejected';
export { AggregateSequence1763700000700 } from './aggregate-sequence';
