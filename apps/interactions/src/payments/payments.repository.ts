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

/** An interaction's payments; each change also bumps the interaction's updated_at. */
@Injectable()
export class PaymentsRepository {
  lock(m: EntityManager, accountId: string, interactionId: string): Promise<LockedInteraction | null> {
    return lockInteraction(m, accountId, interactionId);
  }

  snapshot(m: EntityManager, accountId: string, interactionId: string): Promise<InteractionSnapshot> {
    return readSnapshot(m, accountId, interactionId);
  }

  async insert(m: EntityManager, accountId: string, interactionId: string, p: NewPayment): Promise<void> {
    await m.query(
      `INSERT INTO interaction_payment (id, interaction_id, type, name, sum, date, contractor_bank)
       SELECT $1, i.id, $3, $4, $5, $6, $7 FROM interaction i WHERE i.id = $2 AND i.account_id = $8`,
      [p.id, interactionId, p.type, p.name, p.sum, p.date, p.contractorBank ? JSON.stringify(p.contractorBank) : null, accountId],
    );
    await touchInteraction(m, accountId, interactionId);
  }

  /** False when the interaction has no such payment. */
  async delete(m: EntityManager, accountId: string, interactionId: string, paymentId: string): Promise<boolean> {
    const removed: unknown[] = await m.query(
      `DELETE FROM interaction_payment p USING interaction i
        WHERE p.id = $1 AND p.interaction_id = $2 AND i.id = p.interaction_id AND i.account_id = $3 RETURNING p.id`,
      [paymentId, interactionId, accountId],
    );
    if (removed.length === 0) return false;
    await touchInteraction(m, accountId, interactionId);
    return true;
  }
}
