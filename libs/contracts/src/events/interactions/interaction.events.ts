import { Topics } from '../../topics';
import { defineEvent } from '../envelope';
import { INTERACTION_EVENT_VERSION } from './interaction-versions';
import type {
  InteractionDocumentEvent,
  InteractionFileEvent,
  InteractionPaymentEvent,
  InteractionSnapshot,
  InteractionStatusEvent,
} from './interaction-snapshot';

/*
 * Version 2 (every interaction event): `data` is the bounded InteractionSnapshot, with
 * `paymentsCount`, `paidSum` and `balance` instead of the `payments` array; the payment events
 * carry the one payment. Still on papka.interactions.v1: keys, ordering and compaction are
 * unchanged, and the envelope's `version` tells the shapes apart (see interactionSnapshotOf).
 */

/** A deal was created. data: the snapshot. */
export const InteractionCreated = defineEvent<InteractionSnapshot, 'interaction.created'>('interaction.created', INTERACTION_EVENT_VERSION, Topics.interactions);
/** Name, sum or description changed, or an attached file was renamed. */
export const InteractionUpdated = defineEvent<InteractionSnapshot, 'interaction.updated'>('interaction.updated', INTERACTION_EVENT_VERSION, Topics.interactions);
/** The status moved; data adds `previousStatus`. */
export const InteractionStatusChanged = defineEvent<InteractionStatusEvent, 'interaction.status-changed'>('interaction.status-changed', INTERACTION_EVENT_VERSION, Topics.interactions);
/** data: the last snapshot. */
export const InteractionDeleted = defineEvent<InteractionSnapshot, 'interaction.deleted'>('interaction.deleted', INTERACTION_EVENT_VERSION, Topics.interactions);
/** data adds the `payment` recorded; its totals (`paymentsCount`, `paidSum`, `balance`) include it. */
export const InteractionPaymentRecorded = defineEvent<InteractionPaymentEvent, 'interaction.payment.recorded'>('interaction.payment.recorded', INTERACTION_EVENT_VERSION, Topics.interactions);
/** data adds the `payment` removed; its totals no longer include it. */
export const InteractionPaymentRemoved = defineEvent<InteractionPaymentEvent, 'interaction.payment.removed'>('interaction.payment.removed', INTERACTION_EVENT_VERSION, Topics.interactions);
/** data adds the `document` attached. */
export const InteractionDocumentAttached = defineEvent<InteractionDocumentEvent, 'interaction.document.attached'>('interaction.document.attached', INTERACTION_EVENT_VERSION, Topics.interactions);
/** data adds the `document` detached and the `reason` (`user` or `document-deleted`). */
export const InteractionDocumentDetached = defineEvent<InteractionDocumentEvent, 'interaction.document.detached'>('interaction.document.detached', INTERACTION_EVENT_VERSION, Topics.interactions);
/** data adds the `file` attached. */
export const InteractionFileAttached = defineEvent<InteractionFileEvent, 'interaction.file.attached'>('interaction.file.attached', INTERACTION_EVENT_VERSION, Topics.interactions);
/** data adds the `file` detached. */
export const InteractionFileDetached = defineEvent<InteractionFileEvent, 'interaction.file.detached'>('interaction.file.detached', INTERACTION_EVENT_VERSION, Topics.interactions);
