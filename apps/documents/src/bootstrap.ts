import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { Topics } from '@papka/contracts';
import { connectEventConsumer, EVENT_BUS, type EventBus } from '@papka/messaging';
import { ensureDatabase, runMigrations } from '@papka/persistence';
import { createHttpApp } from '@papka/platform';
import { AppModule } from './app.module';
import { loadDocumentsConfig } from './config';
import { renderRetryPolicy } from './rendering/rendering.events';

/**
 * Starts the documents service: HTTP API, the contractor/organisation replica consumer and,
 * when RENDER_ENABLED, the render-request consumer (its own consumer group, so renderer
 * replicas scale by partition).
 */
export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<NestExpressApplication> {
  const config = loadDocumentsConfig(env);
  if (config.DATABASE_CREATE) await ensureDatabase(config.DATABASE_URL);
  const app = await createHttpApp(AppModule.register(config), {
    drainMs: config.SHUTDOWN_DRAIN_MS,
    name: 'documents',
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    openApi: { title: 'Papka documents', description: 'Uploads, templates, the constructor, rendering, documents' },
  });
  const dataSource = app.get(DataSource);
  if (config.MIGRATIONS_RUN) await runMigrations(dataSource);
  const bus = app.get<EventBus>(EVENT_BUS);
  connectEventConsumer(app, { bus, dataSource, groupId: 'documents', topics: [Topics.contractors] });
  if (config.RENDER_ENABLED) {
    connectEventConsumer(app, { bus, dataSource, groupId: 'documents-renderer', topics: [Topics.renderRequests], retry: renderRetryPolicy });
  }
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  return app;
}

// The embedded launcher re-announces existing data after start; it may import an app only through this file.
export { announceDocuments } from './documents/documents.announce';
