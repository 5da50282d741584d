import { Topics } from '../../topics';
import { defineEvent } from '../envelope';
import type { DocumentSnapshot, RenderRequest } from './document-snapshot';

export const DocumentCreated = defineEvent<DocumentSnapshot, 'document.created'>('document.created', 1, Topics.documents);
export const DocumentRendered = defineEvent<DocumentSnapshot, 'document.rendered'>('document.rendered', 1, Topics.documents);
export const DocumentFailed = defineEvent<DocumentSnapshot, 'document.failed'>('document.failed', 1, Topics.documents);
export const DocumentStatusChanged = defineEvent<DocumentSnapshot, 'document.status-changed'>('document.status-changed', 1, Topics.documents);
export const DocumentDeleted = defineEvent<DocumentSnapshot, 'document.deleted'>('document.deleted', 1, Topics.documents);

/** The current state re-announced, nothing changed (see ContractorAnnounced). */
export const DocumentAnnounced = defineEvent<DocumentSnapshot, 'document.snapshot'>('document.snapshot', 1, Topics.documents);

export const RenderRequested = defineEvent<RenderRequest, 'render.requested'>('render.requested', 1, Topics.renderRequests);
