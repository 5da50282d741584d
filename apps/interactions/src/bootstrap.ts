import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { Topics } from '@papka/contracts';
import { connectEventConsumer, EVENT_BUS, type EventBus } from '@papka/messaging';
import { ensureDatabase, runMigrations } from '@papka/persistence';
import { createHttpApp } from '@papka/platform';
import { AppModule } from './app.module';
import { loadInteractionsConfig } from './config';

/**
 * Starts the interactions service: the HTTP API and the consumer (group `interactions`) that
 * keeps the contractor and document read models from papka.contractors.v1 and papka.documents.v1.
 */
export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<NestExpressApplication> {
  const config = loadInteractionsConfig(env);
  if (config.DATABASE_CREATE) await ensureDatabase(config.DATABASE_URL);
  const app = await createHttpApp(AppModule.register(config), {
    drainMs: config.SHUTDOWN_DRAIN_MS,
    name: 'interactions',
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    openApi: { title: 'Papka interactions', description: 'Deals with their description, status, payments, documents and files' },
  });
  const dataSource = app.get(DataSource);
  if (config.MIGRATIONS_RUN) await runMigrations(dataSource);
  const bus = app.get<EventBus>(EVENT_BUS);
  connectEventConsumer(app, { bus, dataSource, groupId: 'interactions', topics: [Topics.contractors, Topics.documents, Topics.finance] });
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  return app;
}
