import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  ContractorAnnounced,
  ContractorCreated,
  ContractorDeleted,
  ContractorUpdated,
  DocumentAnnounced,
  DocumentCreated,
  DocumentDeleted,
  DocumentFailed,
  DocumentRendered,
  DocumentStatusChanged,
  InteractionDocumentDetached,
  type ContractorSnapshot,
  type DocumentSnapshot,
  type EventEnvelope,
} from '@papka/contracts';
import { OutboxRelay, writeToOutbox, type EventContext } from '@papka/messaging';
import { InteractionsRepository } from '../interactions/interactions.repository';

/**
 * Keeps the contractor and document read models from their events (event-carried state
 * transfer: interactions never calls the contractors or documents service). Every write is
 * guarded by the event time, so a late, older event cannot overwrite a newer state, and a
 * replayed event rewrites what is already there: handlers are idempotent without the inbox.
 */
@Controller()
export class ReplicasEvents {
  private readonly logger = new Logger(ReplicasEvents.name);

  constructor(
    private readonly repo: InteractionsRepository,
    private readonly relay: OutboxRelay,
  ) {}

  @EventPattern(ContractorCreated.type)
  onContractorCreated(@Payload() e: EventEnvelope<ContractorSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertContractor(e, ctx, false);
  }

  @EventPattern(ContractorUpdated.type)
  onContractorUpdated(@Payload() e: EventEnvelope<ContractorSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertContractor(e, ctx, false);
  }

  @EventPattern(ContractorAnnounced.type)
  onContractorAnnounced(@Payload() e: EventEnvelope<ContractorSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertContractor(e, ctx, false);
  }

  /** The row stays (flagged): interactions keep showing the last known name, INN and address. */
  @EventPattern(ContractorDeleted.type)
  onContractorDeleted(@Payload() e: EventEnvelope<ContractorSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertContractor(e, ctx, true);
  }

  @EventPattern(DocumentCreated.type)
  onDocumentCreated(@Payload() e: EventEnvelope<DocumentSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertDocument(e, ctx, false);
  }

  @EventPattern(DocumentRendered.type)
  onDocumentRendered(@Payload() e: EventEnvelope<DocumentSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertDocument(e, ctx, false);
  }

  @EventPattern(DocumentFailed.type)
  onDocumentFailed(@Payload() e: EventEnvelope<DocumentSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertDocument(e, ctx, false);
  }

  @EventPattern(DocumentAnnounced.type)
  onDocumentAnnounced(@Payload() e: EventEnvelope<DocumentSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertDocument(e, ctx, false);
  }

  @EventPattern(DocumentStatusChanged.type)
  onDocumentStatusChanged(@Payload() e: EventEnvelope<DocumentSnapshot>, @Ctx() ctx: EventContext) {
    return this.upsertDocument(e, ctx, false);
  }

  /**
   * The replica becomes a tombstone and the document leaves every interaction it was attached
   * to, each with an `interaction.document.detached` (reason `document-deleted`). A replay
   * finds no links left, so it emits nothing.
   */
  @EventPattern(DocumentDeleted.type)
  async onDocumentDeleted(@Payload() e: EventEnvelope<DocumentSnapshot>, @Ctx() ctx: EventContext) {
    await this.upsertDocument(e, ctx, true);
    const m = ctx.manager;
    const links: { interaction_id: string; account_id: string }[] = await m.query(
      `SELECT l.interaction_id, i.account_id FROM interaction_document l JOIN interaction i ON i.id = l.interaction_id
        WHERE l.document_id = $1 AND i.account_id = $2 ORDER BY l.interaction_id FOR UPDATE OF i`,
      [e.data.uuid, e.accountId],
    );
    if (links.length === 0) return;
    const d = e.data;
    const document = { id: d.uuid, name: d.name, type: d.type, status: d.status, filename: d.filename, sum: d.sum, createdAt: d.createdAt };
    for (const link of links) {
      await m.query(`DELETE FROM interaction_document WHERE interaction_id = $1 AND document_id = $2`, [link.interaction_id, d.uuid]);
      await this.repo.touch(m, link.interaction_id);
      const snapshot = await this.repo.snapshot(m, link.interaction_id);
      await writeToOutbox(m, InteractionDocumentDetached, {
        accountId: link.account_id,
        aggregateId: link.interaction_id,
        data: { ...snapshot, document, reason: 'document-deleted' },
      });
    }
    this.logger.log(`document ${d.uuid} deleted: detached from ${links.length} interaction(s)`);
    this.relay.kick();
  }

  private async upsertContractor(e: EventEnvelope<ContractorSnapshot>, ctx: EventContext, deleted: boolean) {
    const c = e.data;
    const banks = (c.bankInfo ?? []).map((b) => ({ uuid: b.id, bik: b.bik, number: b.number, name: b.name }));
    await ctx.manager.query(
      `INSERT INTO contractor_replica (id, account_id, name, inn, address, bank_accounts, deleted, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, inn = excluded.inn, address = excluded.address,
         bank_accounts = excluded.bank_accounts, deleted = excluded.deleted, version = excluded.version
       WHERE contractor_replica.version <= excluded.version`,
      [c.uuid, e.accountId, c.mainInfo.name, c.mainInfo.inn, c.mainInfo.address, JSON.stringify(banks), deleted, e.occurredAt],
    );
  }

  private async upsertDocument(e: EventEnvelope<DocumentSnapshot>, ctx: EventContext, deleted: boolean) {
    const d = e.data;
    await ctx.manager.query(
      `INSERT INTO document_replica (id, account_id, name, type, status, render_state, filename, content_type, storage_key,
                                     masks, sum, created_at, deleted, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, status = excluded.status,
         render_state = excluded.render_state, filename = excluded.filename, content_type = excluded.content_type,
         storage_key = excluded.storage_key, masks = excluded.masks, sum = excluded.sum, deleted = excluded.deleted,
         version = excluded.version
       WHERE document_replica.version <= excluded.version AND NOT document_replica.deleted`,
      [
        d.uuid,
        e.accountId,
        d.name,
        d.type,
        d.status,
        d.renderState,
        d.filename,
        d.contentType,
        // Older events (before the snapshot carried it) get the documents service's key layout.
        d.storageKey ?? (d.filename ? `${e.accountId}/${d.filename}` : null),
        JSON.stringify(d.masks ?? {}),
        d.sum,
        d.createdAt,
        deleted,
        e.occurredAt,
      ],
    );
  }
}
