import { Topics } from '../../topics';
import { defineEvent } from '../envelope';
import type { DocumentSnapshot, RenderRequest } from './document-snapshot';

/** A document was created. data: the full snapshot, as for every document event. */
export const DocumentCreated = defineEvent<DocumentSnapshot, 'document.created'>('document.created', 1, Topics.documents);
/** Its PDF is stored. */
export const DocumentRendered = defineEvent<DocumentSnapshot, 'document.rendered'>('document.rendered', 1, Topics.documents);
/** Rendering failed for good. */
export const DocumentFailed = defineEvent<DocumentSnapshot, 'document.failed'>('document.failed', 1, Topics.documents);
/** The user moved its status. */
export const DocumentStatusChanged = defineEvent<DocumentSnapshot, 'document.status-changed'>('document.status-changed', 1, Topics.documents);
/** data: the last snapshot. */
export const DocumentDeleted = defineEvent<DocumentSnapshot, 'document.deleted'>('document.deleted', 1, Topics.documents);

/** The current state re-announced, nothing changed (see ContractorAnnounced). */
export const DocumentAnnounced = defineEvent<DocumentSnapshot, 'document.snapshot'>('document.snapshot', 1, Topics.documents);

/** A command to the renderers (papka.render-requests.v1), not a fact about the document. */
export const RenderRequested = defineEvent<RenderRequest, 'render.requested'>('render.requested', 1, Topics.renderRequests);
