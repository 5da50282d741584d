import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RenderRequested, type EventEnvelope, type RenderRequest } from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { DocumentRendererService } from './document-renderer.service';

/** Attempts a render request gets (first included) before its document is marked failed. */
export const RENDER_MAX_ATTEMPTS = 4;
export const renderRetryPolicy = {
  maxAttempts: RENDER_MAX_ATTEMPTS,
  backoffMs: (n: number) => [1_000, 5_000, 15_000][n - 1] ?? 15_000,
};

@Controller()
export class RenderEvents {
  constructor(private readonly renderer: DocumentRendererService) {}

  @EventPattern(RenderRequested.type)
  onRenderRequested(@Payload() e: EventEnvelope<RenderRequest>, @Ctx() ctx: EventContext) {
    return this.renderer.handle(e.data, ctx.manager, ctx.attempt >= RENDER_MAX_ATTEMPTS);
  }
}
