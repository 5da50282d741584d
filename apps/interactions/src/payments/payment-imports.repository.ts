import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * Which payments came from a finance target, by the target's own id, and which remote ids were
 * removed there (claimed by the removal, so a late import of one records nothing).
 */
@Injectable()
export class PaymentImportsRepository {
  /** Claims the (source, external id) for the payment; false when it was imported before. */
  async claim(m: EntityManager, accountId: string, source: string, externalId: string, paymentId: string, interactionId: string): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO interaction_payment_import (account_id, source, external_id, payment_id, interaction_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (account_id, source, external_id) DO NOTHING RETURNING 1`,
      [accountId, source, externalId, paymentId, interactionId],
    );
    return rows.length > 0;
  }
}
