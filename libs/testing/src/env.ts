import type { FakeDadata } from './fakes';
import { TEST_JWT_SECRET } from './http';
import { infraEnv } from './infra';

export type ServiceEnv = Record<string, string | undefined>;

/**
 * The environment of a service under test, for `startService` or an in-process `bootstrap`
 * alike: this process's environment, test settings on the real Kafka (a fast outbox relay, the
 * secret `testToken` signs with, quiet logs), then `overrides`.
 */
export function serviceEnv(overrides: ServiceEnv = {}): ServiceEnv {
  return {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    EVENT_BUS: 'kafka',
    KAFKA_BROKERS: infraEnv().KAFKA_BROKERS,
    OUTBOX_POLL_MS: '100',
    ...overrides,
  };
}

/** Object storage on the real MinIO started by tools/infra. */
export function s3Env(): ServiceEnv {
  const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY } = infraEnv();
  return { STORAGE_DRIVER: 's3', S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY };
}

/** Organisation and bank look-ups against a fake DaData. */
export function dadataEnv(dadata: FakeDadata): ServiceEnv {
  return { DADATA_API_URL: dadata.url, DADATA_API_KEY: dadata.apiKey };
}
