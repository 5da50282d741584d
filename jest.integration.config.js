// Integration tests: apps/<svc>/test/*.int-spec.ts and libs/<lib>/test/*.int-spec.ts,
// against the real PostgreSQL/Kafka/MinIO started by tools/infra (see libs/testing).
const preset = require('./jest.preset.js');

module.exports = {
  ...preset,
  rootDir: '.',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/test/**/*.int-spec.ts'],
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
  testTimeout: 120_000,
  maxWorkers: 1,
};
