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

/**
 * What a multipart upload may carry beyond its file's `UPLOAD_LIMIT_BYTES` (boundaries, part
 * headers): the gateway caps an upload's body at the two together, and documents refuses a body
 * declared beyond them unread, so a file of exactly the limit passes both.
 */
export const MULTIPART_SLACK_BYTES = 64 * 1024;
