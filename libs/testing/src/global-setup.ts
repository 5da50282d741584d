import { infra } from './infra';
import { claimTestRun, killLeftoverServices } from './process';

/**
 * Jest global setup of the integration suite: the real PostgreSQL, Kafka and MinIO must
 * be up (idempotent and quick when they already are). Each test file then makes its own
 * database and runs the service's migrations by starting the service.
 */
export default async function globalSetup(): Promise<void> {
  claimTestRun();
  killLeftoverServices(); // of an earlier run that was interrupted
  if (process.env.PAPKA_SKIP_INFRA_UP === 'true') return;
  await infra('up', 'postgres', 'kafka', 'minio');
}
