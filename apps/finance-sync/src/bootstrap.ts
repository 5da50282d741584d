import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { Topics } from '@papka/contracts';
import { connectEventConsumer, EVENT_BUS, type EventBus } from '@papka/messaging';
import { ensureDatabase, runMigrations } from '@papka/persistence';
import { createHttpApp } from '@papka/platform';
import { AppModule } from './app.module';
import { loadFinanceSyncConfig } from './config';

/**
 * Starts finance-sync: the HTTP API (connections, records, reconciliation, webhooks), the
 * consumer (group `finance-sync`) that keeps the contractor, interaction, payment and document
 * read models from papka.contractors.v1, papka.interactions.v1 and papka.documents.v1, and the
 * sync worker.
 */
export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<NestExpressApplication> {
  const config = loadFinanceSyncConfig(env);
  if (config.DATABASE_CREATE) await ensureDatabase(config.DATABASE_URL);
  const app = await createHttpApp(AppModule.register(config), {
    drainMs: config.SHUTDOWN_DRAIN_MS,
    name: 'finance-sync',
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    openApi: { title: 'Papka finance-sync', description: 'Connections to finance systems (Adesk, MoySklad, the DMS, billing), sync records, reconciliation and inbound webhooks' },
  });
  const dataSource = app.get(DataSource);
  if (config.MIGRATIONS_RUN) await runMigrations(dataSource);
  const bus = app.get<EventBus>(EVENT_BUS);
  connectEventConsumer(app, { bus, dataSource, groupId: 'finance-sync', topics: [Topics.contractors, Topics.interactions, Topics.documents] });
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  return app;
}
