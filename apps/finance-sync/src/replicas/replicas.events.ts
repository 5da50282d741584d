import { Controller } from '@nestjs/common';
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
  InteractionCreated,
  InteractionDeleted,
  InteractionDocumentAttached,
  InteractionDocumentDetached,
  InteractionFileAttached,
  InteractionFileDetached,
  InteractionPaymentRecorded,
  InteractionPaymentRemoved,
  InteractionStatusChanged,
  InteractionUpdated,
  OrganizationUpdated,
  interactionSnapshotOf,
  type EnvelopeOf,
  type FinanceTarget,
  type InteractionPaymentEvent,
  type InteractionSnapshot,
  type PaymentSnapshot,
} from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { MAPPING_KIND, targetsTaking, targetsWithDocumentPayment, targetsWithSiblingPayments, type OrganizationData } from '../connectors';
import { SyncRepository } from '../engine/sync.repository';
import { contractorData, contractorHash, interactionHash } from './content-hash';
import { ReplicasRepository } from './replicas.repository';

/** Targets whose payments depend on their interaction's other payments (the DMS). */
const SIBLING_TARGETS = targetsWithSiblingPayments();

/** Targets whose documents carry the payment that pays them in full, in their hash (the DMS), and the other targets of documents. */
const PAID_DOCUMENT_TARGETS = targetsWithDocumentPayment().filter((t) => targetsTaking('document').includes(t));
const OTHER_DOCUMENT_TARGETS = targetsTaking('document').filter((t) => !PAID_DOCUMENT_TARGETS.includes(t));

/** A payment is recorded once and removed once (there is no payment update). */
const PAYMENT_CREATE = 'create';

/** What a document sends of its seller (a new director or bank account changes none of it). */
const sameSeller = (a: OrganizationData | null, b: OrganizationData | null): boolean =>
  a === b || (!!a && !!b && a.name === b.name && a.inn === b.inn && (a.kpp ?? null) === (b.kpp ?? null));

/**
 * Keeps the read models from papka.contractors.v1 (contractors and the account's own
 * organisation), papka.interactions.v1 and papka.documents.v1
 * and queues what changed for every connection of the account whose target takes it. Writes are versioned by the aggregate sequence,
 * so a late event changes nothing and a replay or re-announce rewrites the same row and queues
 * nothing new.
 */
@Controller()
export class ReplicasEvents {
  constructor(
    private readonly replicas: ReplicasRepository,
    private readonly sync: SyncRepository,
  ) {}

  @EventPattern([ContractorCreated.type, ContractorUpdated.type, ContractorAnnounced.type, ContractorDeleted.type])
  async onContractor(
    @Payload() e: EnvelopeOf<typeof ContractorCreated | typeof ContractorUpdated | typeof ContractorAnnounced | typeof ContractorDeleted>,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    const deleted = e.type === ContractorDeleted.type;
    const written = await this.replicas.upsertContractor(ctx.manager, e.accountId, e.data, e.sequence ?? 0, deleted);
    // A deleted contractor stays in the target (its transactions still name it).
    if (written && !deleted) await this.sync.enqueue(ctx.manager, e.accountId, 'contractor', e.data.uuid, contractorHash(contractorData(e.data)), 'upsert');
  }

  @EventPattern([
    InteractionCreated.type,
    InteractionUpdated.type,
    InteractionStatusChanged.type,
    InteractionDeleted.type,
    InteractionDocumentAttached.type,
    InteractionDocumentDetached.type,
    InteractionFileAttached.type,
    InteractionFileDetached.type,
  ])
  async onInteraction(
    @Payload()
    e: EnvelopeOf<
      | typeof InteractionCreated
      | typeof InteractionUpdated
      | typeof InteractionStatusChanged
      | typeof InteractionDeleted
      | typeof InteractionDocumentAttached
      | typeof InteractionDocumentDetached
      | typeof InteractionFileAttached
      | typeof InteractionFileDetached
    >,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    const i = interactionSnapshotOf(e);
    const deleted = e.type === InteractionDeleted.type;
    // Version-1 events (still on the compacted topic) carry every payment inline (only when the interaction itself is written).
    const inline = (e.data as { payments?: PaymentSnapshot[] }).payments;
    const payments = e.version < 2 && Array.isArray(inline) ? inline.map((p) => ({ p, removed: false })) : [];
    await this.interaction(ctx, e.accountId, i, e.sequence ?? 0, deleted, payments, true);
  }

  @EventPattern([InteractionPaymentRecorded.type, InteractionPaymentRemoved.type])
  async onPayment(@Payload() e: EnvelopeOf<typeof InteractionPaymentRecorded | typeof InteractionPaymentRemoved>, @Ctx() ctx: EventContext): Promise<void> {
    const data = interactionSnapshotOf<InteractionPaymentEvent>(e);
    await this.interaction(ctx, e.accountId, data, e.sequence ?? 0, false, [{ p: data.payment, removed: e.type === InteractionPaymentRemoved.type }], false);
  }

  @EventPattern([DocumentCreated.type, DocumentRendered.type, DocumentFailed.type, DocumentStatusChanged.type, DocumentDeleted.type, DocumentAnnounced.type])
  async onDocument(
    @Payload()
    e: EnvelopeOf<typeof DocumentCreated | typeof DocumentRendered | typeof DocumentFailed | typeof DocumentStatusChanged | typeof DocumentDeleted | typeof DocumentAnnounced>,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    const deleted = e.type === DocumentDeleted.type;
    const written = await this.replicas.upsertDocument(ctx.manager, e.accountId, e.data, e.sequence ?? 0, deleted);
    // A deleted document stays in the target (as a deleted contractor does).
    if (written && !deleted) await this.document(ctx, e.accountId, e.data.uuid);
    // Payments parked because this attached document was not in the read model yet (invoice or not?) are asked again.
    if (written) await this.sync.releaseParkedOfAccount(ctx.manager, e.accountId, [`${MAPPING_KIND.document}:${e.data.uuid}`]);
  }

  /**
   * The account's own organisation (the seller). When what documents send of it changes, every
   * live document of the account is queued again with its new hash, for the connections whose
   * target takes documents (the DMS sends it as Organization; MoySklad's invoice names its own
   * organisation, so its update sends the same body again).
   */
  @EventPattern([OrganizationUpdated.type])
  async onOrganization(@Payload() e: EnvelopeOf<typeof OrganizationUpdated>, @Ctx() ctx: EventContext): Promise<void> {
    const before = await this.replicas.organization(e.accountId, ctx.manager);
    if (!(await this.replicas.upsertOrganization(ctx.manager, e.accountId, e.data, e.sequence ?? 0))) return;
    if (sameSeller(before, await this.replicas.organization(e.accountId, ctx.manager))) return;
    for (const id of await this.replicas.liveDocumentIds(ctx.manager, e.accountId, targetsTaking('document'))) await this.document(ctx, e.accountId, id);
  }

  /**
   * The interaction, which documents it holds, and its payments of this event (`onlyIfWritten`:
   * only when the interaction itself was written, as a version-1 event's inline ones). The
   * documents whose links changed are queued again after the payments are written, and so is
   * its invoice when a payment changed (on the targets whose documents carry their payment),
   * all in one order: a document's hash sees both, and two transactions locking the same
   * documents cannot deadlock.
   */
  private async interaction(
    ctx: EventContext,
    accountId: string,
    i: InteractionSnapshot,
    version: number,
    deleted: boolean,
    payments: { p: PaymentSnapshot; removed: boolean }[] = [],
    onlyIfWritten = true,
  ): Promise<boolean> {
    const written = await this.replicas.upsertInteraction(ctx.manager, accountId, i, version, deleted);
    if (written && !deleted) await this.sync.enqueue(ctx.manager, accountId, 'interaction', i.uuid, interactionHash(i), 'upsert');
    // Which documents it holds (their links are part of what a document sends: its deal, its contract).
    const relinked = written && Array.isArray(i.documents) ? await this.replicas.setInteractionDocuments(ctx.manager, accountId, i.uuid, deleted ? [] : i.documents.map((d) => d.id)) : [];
    let paid = false;
    if (written || !onlyIfWritten) for (const { p, removed } of payments) paid = (await this.payment(ctx, accountId, i.uuid, p, version, removed)) || paid;
    // Whether its invoice is paid in full may have changed: queued again where that is sent (the DMS).
    const invoice = paid ? await this.paidInvoiceToRequeue(ctx, accountId, i.uuid) : null;
    const requeue = new Set(relinked);
    // In one order, so two interactions relinking the same documents cannot deadlock on their locks.
    for (const id of [...requeue, ...(invoice && !requeue.has(invoice) ? [invoice] : [])].sort()) await this.document(ctx, accountId, id, requeue.has(id) ? undefined : PAID_DOCUMENT_TARGETS);
    if (relinked.length) {
      await this.sync.requeueNotApplicablePayments(ctx.manager, accountId, i.uuid);
      // A detached document that never reached the read model no longer holds the payments parked for it.
      await this.sync.releaseParkedOfAccount(ctx.manager, accountId, relinked.map((id) => `${MAPPING_KIND.document}:${id}`));
    }
    return written;
  }

  /** The interaction's invoice (as a payment's PaymentInvoice), when the account has a connection whose documents carry their payment. */
  private async paidInvoiceToRequeue(ctx: EventContext, accountId: string, interactionId: string): Promise<string | null> {
    if (!(await this.sync.hasConnectionTo(ctx.manager, accountId, PAID_DOCUMENT_TARGETS))) return null;
    return (await this.replicas.documentsOf(accountId, interactionId, ctx.manager)).find((d) => d.kind === 'invoice')?.id ?? null;
  }

  /**
   * Queues the document with the hash of what it now is, links included (for the targets whose
   * documents carry their payment, that too: `documentsWithPayment`); one not in the read model
   * yet waits for its own event. The document's event and an interaction's attach of it come on
   * different topics and may be handled at once, each transaction blind to the other's write: the
   * lock makes the second one read after the first has committed, so one of them sees both. So
   * do a payment's event and the invoice's own. `only`: just these targets' connections.
   */
  private async document(ctx: EventContext, accountId: string, id: string, only?: readonly FinanceTarget[]): Promise<void> {
    await this.replicas.lockDocumentLinks(ctx.manager, accountId, id);
    const d = await this.replicas.document(accountId, id, ctx.manager);
    if (!d || d.deleted) return;
    const paidTargets = PAID_DOCUMENT_TARGETS.filter((t) => !only || only.includes(t));
    // The payment is looked up only for an invoice of an account with such a connection (most have none).
    const paid = paidTargets.length && d.kind === 'invoice' && (await this.sync.hasConnectionTo(ctx.manager, accountId, paidTargets)) ? await this.replicas.withPayment(accountId, d, ctx.manager) : d;
    if (paid.contentHash === d.contentHash) {
      await this.sync.enqueue(ctx.manager, accountId, 'document', id, d.contentHash, 'upsert', only);
      return;
    }
    const others = OTHER_DOCUMENT_TARGETS.filter((t) => !only || only.includes(t));
    if (others.length) await this.sync.enqueue(ctx.manager, accountId, 'document', id, d.contentHash, 'upsert', others);
    await this.sync.enqueue(ctx.manager, accountId, 'document', id, paid.contentHash, 'upsert', paidTargets);
  }

  /** Answers whether the payment was written (a replay or a late event writes nothing). */
  private async payment(ctx: EventContext, accountId: string, interactionId: string, p: PaymentSnapshot, version: number, removed: boolean): Promise<boolean> {
    const written = await this.replicas.upsertPayment(ctx.manager, accountId, interactionId, p, version, removed);
    if (!written) return false;
    await this.sync.enqueue(ctx.manager, accountId, 'payment', p.uuid, PAYMENT_CREATE, removed ? 'remove' : 'upsert');
    // Which payment pays the invoice in full may now be another one (the DMS records only that
    // one): on such targets' connections the interaction's payments are asked again.
    await this.sync.requeueNotApplicablePayments(ctx.manager, accountId, interactionId, undefined, SIBLING_TARGETS);
    return true;
  }
}
