import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RenderRequested, type EnvelopeOf } from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { DocumentRendererService } from './document-renderer.service';

/**
 * Attempts a render request gets (first included) before its document is marked failed. A
 * dependency outage (storage, database) does not count: the request is redelivered until it ends.
 */
export const RENDER_MAX_ATTEMPTS = 4;
export const renderRetryPolicy = {
  maxAttempts: RENDER_MAX_ATTEMPTS,
  backoffMs: (n: number) => [1_000, 5_000, 15_000][n - 1] ?? 15_000,
};

/** papka.render-requests.v1 (group documents-renderer): the document's file is made in the consumer's transaction. */
@Controller()
export class RenderingEvents {
  constructor(private readonly renderer: DocumentRendererService) {}

  @EventPattern(RenderRequested.type)
  onRenderRequested(@Payload() e: EnvelopeOf<typeof RenderRequested>, @Ctx() ctx: EventContext): Promise<void> {
    return this.renderer.handle(ctx, e.data, ctx.attempt >= RENDER_MAX_ATTEMPTS);
  }
}
