/**
 * Business status of a document, an integer as in the public API (`"status": 1`).
 * Separate from the render state: a draft can be rendered, a signed one re-downloaded.
 */
export enum DocumentStatus {
  Draft = 1,
  Sent = 2,
  Signed = 3,
  Paid = 4,
  Cancelled = 5,
}

export const DOCUMENT_STATUSES = [1, 2, 3, 4, 5] as const;

/** Where producing the document's file stands. */
export type RenderState = 'pending' | 'rendered' | 'failed';

/** A template field: `{ id, name, type }` as in the reference, plus whether it is required. */
export type MaskType = 'string' | 'text' | 'number' | 'money' | 'date' | 'boolean' | 'lines';

export interface MaskDef {
  id: string;
  name: string;
  type: MaskType;
  required?: boolean;
}

/** One line of an invoice or act; money in kopecks. */
export interface LineItem {
  title: string;
  measure: string;
  quantity: number;
  /** Price per unit in kopecks. */
  price: number;
}
