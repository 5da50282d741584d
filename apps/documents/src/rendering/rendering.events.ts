import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RenderRequested, type EnvelopeOf } from '@papka/contracts';
import type { EventContext, RetryPolicy } from '@papka/messaging';
import { RENDER_MAX_ATTEMPTS, RenderQueue, renderBackoffMs } from './render-queue';

export { RENDER_MAX_ATTEMPTS } from './render-queue';

/**
 * The consumer's retry policy for render requests. A request is handed to the RenderQueue,
 * which retries the render itself; the consumer retries only a hand-over that failed.
 */
export const renderRetryPolicy: RetryPolicy = { maxAttempts: RENDER_MAX_ATTEMPTS, backoffMs: renderBackoffMs };

/**
 * papka.render-requests.v1 (group documents-renderer): each request is handed to this
 * replica's RenderQueue and the consumer moves on, so a partition's requests render side by
 * side, as many as the pool has pages for (the consumer itself handles one record at a time).
 */
@Controller()
export class RenderingEvents {
  constructor(private readonly queue: RenderQueue) {}

  @EventPattern(RenderRequested.type)
  onRenderRequested(@Payload() e: EnvelopeOf<typeof RenderRequested>, @Ctx() ctx: EventContext): Promise<void> {
    return this.queue.accept(
      { accountId: e.accountId, documentId: e.data.documentId, revision: e.data.revision, requestedAt: Date.parse(e.occurredAt) || undefined },
      ctx.heartbeat,
    );
  }
}
