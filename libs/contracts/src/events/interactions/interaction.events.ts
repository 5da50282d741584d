import { Topics } from '../../topics';
import { defineEvent } from '../envelope';
import type {
  InteractionDocumentEvent,
  InteractionFileEvent,
  InteractionPaymentEvent,
  InteractionSnapshot,
  InteractionStatusEvent,
} from './interaction-snapshot';

/** A deal was created. data: the full snapshot. */
export const InteractionCreated = defineEvent<InteractionSnapshot, 'interaction.created'>('interaction.created', 1, Topics.interactions);
/** Name, sum or description changed, or an attached file was renamed. */
export const InteractionUpdated = defineEvent<InteractionSnapshot, 'interaction.updated'>('interaction.updated', 1, Topics.interactions);
/** The status moved; data adds `previousStatus`. */
export const InteractionStatusChanged = defineEvent<InteractionStatusEvent, 'interaction.status-changed'>('interaction.status-changed', 1, Topics.interactions);
/** data: the last snapshot. */
export const InteractionDeleted = defineEvent<InteractionSnapshot, 'interaction.deleted'>('interaction.deleted', 1, Topics.interactions);
/** data adds the `payment` recorded. */
export const InteractionPaymentRecorded = defineEvent<InteractionPaymentEvent, 'interaction.payment.recorded'>('interaction.payment.recorded', 1, Topics.interactions);
/** data adds the `payment` removed. */
export const InteractionPaymentRemoved = defineEvent<InteractionPaymentEvent, 'interaction.payment.removed'>('interaction.payment.removed', 1, Topics.interactions);
/** data adds the `document` attached. */
export const InteractionDocumentAttached = defineEvent<InteractionDocumentEvent, 'interaction.document.attached'>('interaction.document.attached', 1, Topics.interactions);
/** data adds the `document` detached and the `reason` (`user` or `document-deleted`). */
export const InteractionDocumentDetached = defineEvent<InteractionDocumentEvent, 'interaction.document.detached'>('interaction.document.detached', 1, Topics.interactions);
/** data adds the `file` attached. */
export const InteractionFileAttached = defineEvent<InteractionFileEvent, 'interaction.file.attached'>('interaction.file.attached', 1, Topics.interactions);
/** data adds the `file` detached. */
export const InteractionFileDetached = defineEvent<InteractionFileEvent, 'interaction.file.detached'>('interaction.file.detached', 1, Topics.interactions);
