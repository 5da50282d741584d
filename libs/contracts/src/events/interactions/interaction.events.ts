import { Topics } from '../../topics';
import { defineEvent } from '../envelope';
import type {
  InteractionDocumentEvent,
  InteractionFileEvent,
  InteractionPaymentEvent,
  InteractionSnapshot,
  InteractionStatusEvent,
} from './interaction-snapshot';

const ev = <D, T extends string>(type: T) => defineEvent<D, T>(type, 1, Topics.interactions);

export const InteractionCreated = ev<InteractionSnapshot, 'interaction.created'>('interaction.created');
/** Name, sum or description changed. */
export const InteractionUpdated = ev<InteractionSnapshot, 'interaction.updated'>('interaction.updated');
export const InteractionStatusChanged = ev<InteractionStatusEvent, 'interaction.status-changed'>('interaction.status-changed');
/** data: the last snapshot. */
export const InteractionDeleted = ev<InteractionSnapshot, 'interaction.deleted'>('interaction.deleted');
export const InteractionPaymentRecorded = ev<InteractionPaymentEvent, 'interaction.payment.recorded'>('interaction.payment.recorded');
export const InteractionPaymentRemoved = ev<InteractionPaymentEvent, 'interaction.payment.removed'>('interaction.payment.removed');
export const InteractionDocumentAttached = ev<InteractionDocumentEvent, 'interaction.document.attached'>('interaction.document.attached');
export const InteractionDocumentDetached = ev<InteractionDocumentEvent, 'interaction.document.detached'>('interaction.document.detached');
export const InteractionFileAttached = ev<InteractionFileEvent, 'interaction.file.attached'>('interaction.file.attached');
export const InteractionFileDetached = ev<InteractionFileEvent, 'interaction.file.detached'>('interaction.file.detached');
