import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payments that came from a finance target (a transaction made in Adesk on a mapped deal),
 * one per (account, source, external id): the import command may arrive twice, the payment is
 * recorded once.
 */
export class PaymentImports1763800000100 implements MigrationInterface {
  name = 'PaymentImports1763800000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE interaction_payment_import (
        account_id text NOT NULL,
        source text NOT NULL,
        external_id text NOT NULL,
        payment_id uuid NOT NULL,
        interaction_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_interaction_payment_import PRIMARY KEY (account_id, source, external_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS interaction_payment_import`);
  }
}
