import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ContractorSnapshot, DocumentSnapshot, InteractionSnapshot, PaymentSnapshot } from '@papka/contracts';
import { upsertVersioned } from '@papka/persistence';
import { readSnapshot, touchInteraction } from '../interactions/interactions.repository';

export type BankAccount = NonNullable<PaymentSnapshot['contractorBank']>;

/** An interaction of the account that has a document attached. */
export interface DocumentLink {
  interactionId: string;
  accountId: string;
}

/** The contractor and document read models, and what a deleted document does to interactions. */
@Injectable()
export class ReplicasRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** `version` is the event's per-aggregate sequence: a late, older event does not overwrite a newer state. */
  upsertContractor(m: EntityManager, accountId: string, c: ContractorSnapshot, version: number, deleted: boolean): Promise<boolean> {
    const banks: BankAccount[] = (c.bankInfo ?? []).map((b) => ({ uuid: b.id, bik: b.bik, number: b.number, name: b.name }));
    return upsertVersioned(
      m,
      'contractor_replica',
      {
        id: c.uuid,
        account_id: accountId,
        name: c.mainInfo.name,
        inn: c.mainInfo.inn,
        address: c.mainInfo.address,
        bank_accounts: JSON.stringify(banks),
        deleted,
        version,
      },
      { conflict: ['id'] },
    );
  }

  /** As for contractors; besides, a tombstone stays one, so a late event cannot bring a deleted document back. */
  upsertDocument(m: EntityManager, accountId: string, d: DocumentSnapshot, version: number, deleted: boolean): Promise<boolean> {
    return upsertVersioned(
      m,
      'document_replica',
      {
        id: d.uuid,
        account_id: accountId,
        name: d.name,
        type: d.type,
        status: d.status,
        render_state: d.renderState,
        filename: d.filename,
        content_type: d.contentType,
        // Older events (before the snapshot carried it) get the documents service's key layout.
        storage_key: d.storageKey ?? (d.filename ? `${accountId}/${d.filename}` : null),
        masks: JSON.stringify(d.masks ?? {}),
        sum: d.sum,
        created_at: d.createdAt,
        deleted,
        version,
      },
      { conflict: ['id'], guard: 'NOT document_replica.deleted' },
    );
  }

  /** Known to the read model, deleted or not. */
  async contractorKnown(accountId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(`SELECT 1 FROM contractor_replica WHERE id = $1 AND account_id = $2`, [id, accountId]);
    return rows.length > 0;
  }

  async contractorLive(accountId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(`SELECT 1 FROM contractor_replica WHERE id = $1 AND account_id = $2 AND NOT deleted`, [id, accountId]);
    return rows.length > 0;
  }

  /** The contractor's bank accounts; null when the contractor is not in the read model. */
  async contractorBankAccounts(m: EntityManager, accountId: string, contractorId: string): Promise<BankAccount[] | null> {
    const [row] = (await m.query(`SELECT bank_accounts FROM contractor_replica WHERE id = $1 AND account_id = $2`, [contractorId, accountId])) as {
      bank_accounts: BankAccount[];
    }[];
    return row?.bank_accounts ?? null;
  }

  /** Whether the interaction's contractor has bank account `ref` (its uuid or number); null when there is no such interaction. */
  async interactionContractorHasBank(accountId: string, interactionId: string, ref: string): Promise<boolean | null> {
    const [row] = (await this.ds.query(
      `SELECT EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(c.bank_accounts, '[]'::jsonb)) b WHERE b->>'uuid' = $3 OR b->>'number' = $3) AS has
         FROM interaction i LEFT JOIN contractor_replica c ON c.id = i.contractor_id AND c.account_id = i.account_id
        WHERE i.id = $1 AND i.account_id = $2`,
      [interactionId, accountId, ref],
    )) as { has: boolean }[];
    return row ? row.has : null;
  }

  async documentLive(accountId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(`SELECT 1 FROM document_replica WHERE id = $1 AND account_id = $2 AND NOT deleted`, [id, accountId]);
    return rows.length > 0;
  }

  /**
   * As documentLive, holding the replica row FOR SHARE until the transaction ends: a concurrent
   * `document.deleted` waits for the attach that saw it live, then detaches it.
   */
  async shareLiveDocument(m: EntityManager, accountId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await m.query(`SELECT 1 FROM document_replica WHERE id = $1 AND account_id = $2 AND NOT deleted FOR SHARE`, [id, accountId]);
    return rows.length > 0;
  }

  /** The account's interactions the document is attached to, each locked for the rest of the transaction. */
  async lockLinks(m: EntityManager, accountId: string, documentId: string): Promise<DocumentLink[]> {
    const rows: { interaction_id: string; account_id: string }[] = await m.query(
      `SELECT l.interaction_id, i.account_id FROM interaction_document l JOIN interaction i ON i.id = l.interaction_id
        WHERE l.document_id = $1 AND i.account_id = $2 ORDER BY l.interaction_id FOR UPDATE OF i`,
      [documentId, accountId],
    );
    return rows.map((r) => ({ interactionId: r.interaction_id, accountId: r.account_id }));
  }

  /** Removes the document from the interaction and returns the interaction's snapshot without it. */
  async unlinkDocument(m: EntityManager, accountId: string, interactionId: string, documentId: string): Promise<InteractionSnapshot> {
    await m.query(
      `DELETE FROM interaction_document l USING interaction i
        WHERE l.interaction_id = $1 AND l.document_id = $2 AND i.id = l.interaction_id AND i.account_id = $3`,
      [interactionId, documentId, accountId],
    );
    await touchInteraction(m, accountId, interactionId);
    return readSnapshot(m, accountId, interactionId);
  }
}
