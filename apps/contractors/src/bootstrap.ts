import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { ensureDatabase, runMigrations } from '@papka/persistence';
import { createHttpApp } from '@papka/platform';
import { AppModule } from './app.module';
import { loadContractorsConfig } from './config';

/**
 * Starts the contractors service. `env` lets the embedded launcher run several services in
 * one process, each with its own settings.
 */
export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<NestExpressApplication> {
  const config = loadContractorsConfig(env);
  if (config.DATABASE_CREATE) await ensureDatabase(config.DATABASE_URL);
  const app = await createHttpApp(AppModule.register(config), {
    drainMs: config.SHUTDOWN_DRAIN_MS,
    name: 'contractors',
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    openApi: { title: 'Papka contractors', description: 'Contractors, bank accounts, contacts, INN/BIK look-up' },
  });
  if (config.MIGRATIONS_RUN) await runMigrations(app.get(DataSource));
  await app.listen(config.PORT, config.HOST);
  return app;
}

// The embedded launcher re-announces existing data after start; it may import an app only through this file.
export { announceContractorsAndOrganizations } from './announce-all';
