import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DocumentsModule } from '../documents/documents.module';
import { ReplicasModule } from '../replicas/replicas.module';
import { TemplatesModule } from '../templates/templates.module';
import { UploadsModule } from '../uploads/uploads.module';
import { DocumentRendererService } from './document-renderer.service';
import { RenderMetrics } from './render-metrics';
import { RenderPoolHost, RendererHealthIndicator } from './render-pool.provider';
import { RenderInputRepository } from './render-input.repository';
import { RenderQueue } from './render-queue';
import { RenderingEvents } from './rendering.events';

/** The render-request consumer, its queue, the warm Chromium (libs/render-pool) and its health check. */
@Module({
  imports: [TerminusModule, DocumentsModule, ReplicasModule, TemplatesModule, UploadsModule],
  controllers: [RenderingEvents],
  providers: [RenderPoolHost, RendererHealthIndicator, DocumentRendererService, RenderInputRepository, RenderMetrics, RenderQueue],
  exports: [RendererHealthIndicator],
})
export class RenderingModule {}
