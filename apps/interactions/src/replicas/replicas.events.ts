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
  type EnvelopeOf,
} from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { ReplicasRepository } from './replicas.repository';

/**
 * Keeps the contractor and document read models from their events (event-carried state
 * transfer: interactions never calls the contractors or documents service). Every write is
 * guarded by the event time, so a late, older event cannot overwrite a newer state, and a
 * replayed event rewrites what is already there: handlers are idempotent without the inbox.
 */
@Controller()
export class ReplicasEvents {
  private readonly logger = new Logger(ReplicasEvents.name);

  constructor(private readonly replicas: ReplicasRepository) {}

  @EventPattern([ContractorCreated.type, ContractorUpdated.type, ContractorAnnounced.type])
  async onContractor(
    @Payload() e: EnvelopeOf<typeof ContractorCreated | typeof ContractorUpdated | typeof ContractorAnnounced>,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    await this.replicas.upsertContractor(ctx.manager, e.accountId, e.data, e.sequence ?? 0, false);
  }

  /** The row stays (flagged): interactions keep showing the last known name, INN and address. */
  @EventPattern(ContractorDeleted.type)
  async onContractorDeleted(@Payload() e: EnvelopeOf<typeof ContractorDeleted>, @Ctx() ctx: EventContext): Promise<void> {
    await this.replicas.upsertContractor(ctx.manager, e.accountId, e.data, e.sequence ?? 0, true);
  }

  @EventPattern([DocumentCreated.type, DocumentRendered.type, DocumentFailed.type, DocumentAnnounced.type, DocumentStatusChanged.type])
  async onDocument(
    @Payload()
    e: EnvelopeOf<typeof DocumentCreated | typeof DocumentRendered | typeof DocumentFailed | typeof DocumentAnnounced | typeof DocumentStatusChanged>,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    await this.replicas.upsertDocument(ctx.manager, e.accountId, e.data, e.sequence ?? 0, false);
  }

  /**
   * The replica becomes a tombstone and the document leaves every interaction it was attached
   * to, each with an `interaction.document.detached` (reason `document-deleted`). A replay
   * finds no links left, so it emits nothing.
   */
  @EventPattern(DocumentDeleted.type)
  async onDocumentDeleted(@Payload() e: EnvelopeOf<typeof DocumentDeleted>, @Ctx() ctx: EventContext): Promise<void> {
    const d = e.data;
    await this.replicas.upsertDocument(ctx.manager, e.accountId, d, e.sequence ?? 0, true);
    const links = await this.replicas.lockLinks(ctx.manager, e.accountId, d.uuid);
    if (links.length === 0) return;
    const document = { id: d.uuid, name: d.name, type: d.type, status: d.status, filename: d.filename, sum: d.sum, createdAt: d.createdAt };
    for (const link of links) {
      const snapshot = await this.replicas.unlinkDocument(ctx.manager, link.accountId, link.interactionId, d.uuid);
      await ctx.emit(InteractionDocumentDetached, link.interactionId, { ...snapshot, document, reason: 'document-deleted' }, link.accountId);
    }
    this.logger.log(`document ${d.uuid} deleted: detached from ${links.length} interaction(s)`);
  }
}
