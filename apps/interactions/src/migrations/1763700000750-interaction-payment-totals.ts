import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payment totals on the interaction row (`paid_sum` in kopecks, income minus outcome, and
 * `payments_count`), so an interaction's snapshot never aggregates its payments: an event's size
 * and a payment write's cost stay the same whatever the number of payments.
 *
 * A row trigger on interaction_payment keeps them, in the writing statement's transaction, for
 * every write path: the payment commands, the cascade of a deleted interaction, SQL run by hand,
 * and a pod of the previous release still serving during a rolling deploy (its writes would
 * otherwise leave the totals behind for good). The backfill runs while both tables are locked
 * against writes, so no payment slips in between the count and the trigger.
 */
export class InteractionPaymentTotals1763700000750 implements MigrationInterface {
  name = 'InteractionPaymentTotals1763700000750';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE interaction, interaction_payment IN SHARE ROW EXCLUSIVE MODE`);
    await q.query(`ALTER TABLE interaction ADD COLUMN paid_sum bigint NOT NULL DEFAULT 0, ADD COLUMN payments_count integer NOT NULL DEFAULT 0`);
    await q.query(`
      UPDATE interaction i SET paid_sum = t.paid_sum, payments_count = t.payments_count
        FROM (SELECT interaction_id, SUM(CASE WHEN type = 'income' THEN sum ELSE -sum END) AS paid_sum, COUNT(*) AS payments_count
                FROM interaction_payment GROUP BY interaction_id) t
       WHERE i.id = t.interaction_id`);
    await q.query(`ALTER TABLE interaction ADD CONSTRAINT ck_interaction_payments_count CHECK (payments_count >= 0)`);
    await q.query(`
      CREATE FUNCTION interaction_payment_totals() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
          UPDATE interaction
             SET paid_sum = paid_sum - CASE WHEN OLD.type = 'income' THEN OLD.sum ELSE -OLD.sum END,
                 payments_count = payments_count - 1
           WHERE id = OLD.interaction_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          UPDATE interaction
             SET paid_sum = paid_sum + CASE WHEN NEW.type = 'income' THEN NEW.sum ELSE -NEW.sum END,
                 payments_count = payments_count + 1
           WHERE id = NEW.interaction_id;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER tr_interaction_payment_totals
        AFTER INSERT OR DELETE OR UPDATE OF interaction_id, type, sum ON interaction_payment
        FOR EACH ROW EXECUTE FUNCTION interaction_payment_totals()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER tr_interaction_payment_totals ON interaction_payment`);
    await q.query(`DROP FUNCTION interaction_payment_totals()`);
    await q.query(`ALTER TABLE interaction DROP CONSTRAINT ck_interaction_payments_count, DROP COLUMN payments_count, DROP COLUMN paid_sum`);
  }
}
