import { Injectable } from '@nestjs/common';

/** A render request: the document and the revision to render. */
export interface RenderRequestJob {
  accountId: string;
  documentId: string;
  revision: number;
  /** When the request was made (ms): the queue's wait is measured from it. */
  requestedAt?: number;
}

/** A place held in this replica's render queue for a request whose transaction has not committed yet. */
export interface RenderSlot {
  /** The transaction committed: the request takes its place. */
  fill(job: RenderRequestJob): void;
  /** The transaction rolled back, or made nothing: the place is given back. */
  cancel(): void;
}

/** What a render queue offers the constructor (RenderQueue implements it). */
export interface LocalRenderQueue {
  /**
   * A place for one more request, or null when the queue is full, closing or renders nothing, or
   * its browser is down (Chromium not relaunching): the request then goes through the bus.
   */
  reserve(): RenderSlot | null;
}

/**
 * The path from a command that asks for a render (the constructor, a render asked again) to this
 * replica's own render queue, skipping the bus. The request's durable record is the document
 * row itself (`render_state = 'pending'` at its revision), committed before the request is
 * handed over; should the replica die first, a renderer's sweep takes the row (see
 * RenderQueue). When there is no queue here (`RENDER_ENABLED=false`), it is full, or its Chromium
 * is down, the command emits RenderRequested instead, for any renderer replica through the bus.
 */
@Injectable()
export class RenderHandoff {
  private queue: LocalRenderQueue | null = null;

  /** Called by this replica's render queue once it renders. */
  attach(queue: LocalRenderQueue | null): void {
    this.queue = queue;
  }

  /** A place in this replica's queue, or null: the request then goes through the bus. */
  reserve(): RenderSlot | null {
    return this.queue?.reserve() ?? null;
  }
}
