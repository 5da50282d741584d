import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { InteractionSnapshot, PaymentSnapshot, PaymentType } from '@papka/contracts';
import { lockInteraction, readSnapshot, touchInteraction, type LockedInteraction } from '../interactions/interactions.repository';

export interface NewPayment {
  id: string;
  type: PaymentType;
  name: string;
  /** Kopecks. */
  sum: number;
  /** YYYY-MM-DD. */
  date: string;
  contractorBank: PaymentSnapshot['contractorBank'];
}

interface PaymentRow {
  id: string;
  type: PaymentType;
  name: string;
  sum: string;
  date: string;
  contractor_bank: PaymentSnapshot['contractorBank'];
  created_at: Date;
}

/** The payment's columns as its snapshot needs them (`date` as text: node-pg would make a local-midnight Date of it). */
const RETURNING = `RETURNING p.id, p.type, p.name, p.sum, p.date::text AS date, p.contractor_bank, p.created_at`;

const toPayment = (r: PaymentRow): PaymentSnapshot => ({
  uuid: r.id,
  type: r.type,
  name: r.name,
  sum: Number(r.sum),
  date: r.date,
  contractorBank: r.contractor_bank,
  createdAt: new Date(r.created_at).toISOString(),
});

/**
 * An interaction's payments; each change also bumps the interaction's updated_at. Each write
 * touches its one payment row and the interaction row (`paid_sum`, `payments_count`, kept by the
 * trigger of migration 1763700000750), never the interaction's other payments.
 */
@Injectable()
export class PaymentsRepository {
  lock(m: EntityManager, accountId: string, interactionId: string): Promise<LockedInteraction | null> {
    return lockInteraction(m, accountId, interactionId);
  }

  snapshot(m: EntityManager, accountId: string, interactionId: string): Promise<InteractionSnapshot> {
    return readSnapshot(m, accountId, interactionId);
  }

  /** The payment as stored; null when the interaction is not the account's. */
  async insert(m: EntityManager, accountId: string, interactionId: string, p: NewPayment): Promise<PaymentSnapshot | null> {
    const [row] = (await m.query(
      `INSERT INTO interaction_payment AS p (id, interaction_id, type, name, sum, date, contractor_bank)
       SELECT $1, i.id, $3, $4, $5, $6, $7 FROM interaction i WHERE i.id = $2 AND i.account_id = $8
       ${RETURNING}`,
      [p.id, interactionId, p.type, p.name, p.sum, p.date, p.contractorBank ? JSON.stringify(p.contractorBank) : null, accountId],
    )) as PaymentRow[];
    if (!row) return null;
    await touchInteraction(m, accountId, interactionId);
    return toPayment(row);
  }

  /** The payment removed; null when the interaction has no such payment. */
  async delete(m: EntityManager, accountId: string, interactionId: string, paymentId: string): Promise<PaymentSnapshot | null> {
    // TypeORM answers a DELETE as [rows, rowCount].
    const [[row]] = (await m.query(
      `DELETE FROM interaction_payment p USING interaction i
        WHERE p.id = $1 AND p.interaction_id = $2 AND i.id = p.interaction_id AND i.account_id = $3
       ${RETURNING}`,
      [paymentId, interactionId, accountId],
    )) as [PaymentRow[], number];
    if (!row) return null;
    await touchInteraction(m, accountId, interactionId);
    return toPayment(row);
  }
}
