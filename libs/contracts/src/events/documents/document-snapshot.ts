import type { DocumentStatus, RenderState } from '../../documents/document-types';

export interface DocumentSnapshot {
  uuid: string;
  name: string;
  type: string;
  status: DocumentStatus;
  renderState: RenderState;
  renderError: string | null;
  filename: string | null;
  contentType: string | null;
  /** Key of the file in the `documents` bucket (null until rendered), so other services can stream it. */
  storageKey: string | null;
  contractorId: string | null;
  contractor: { name: string; inn: string | null; address: string | null } | null;
  templateId: string | null;
  masks: Record<string, unknown>;
  /** Kopecks. */
  sum: number;
  createdAt: string;
  updatedAt: string;
}

/** Asks a renderer to produce a document's file. */
export interface RenderRequest {
  documentId: string;
  /** Increases when a document is re-rendered, so a late result of an older request is ignored. */
  revision: number;
}
