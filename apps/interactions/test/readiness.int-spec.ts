import { apiClient, createTestDatabase, dropDatabase, freePort, s3Env, serviceEnv, startService, testToken, type RunningService } from '@papka/testing';

/**
 * Readiness with object storage down: reported, not failing, so the pods stay in rotation and
 * every route that needs no file keeps answering (a file route answers 503 on its own).
 */
describe('interactions readiness without object storage (PostgreSQL + Kafka, S3 unreachable)', () => {
  let db: string;
  let svc: RunningService;

  beforeAll(async () => {
    db = await createTestDatabase('interactions_readiness');
    svc = await startService('interactions', serviceEnv({ ...s3Env(), S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`, DATABASE_URL: db }));
  }, 120_000);

  afterAll(async () => {
    await svc?.stop();
    if (db) await dropDatabase(db);
  });

  it('answers ready with storage reported down, and serves its lists', async () => {
    const health = apiClient(svc.url);
    const ready = await health<{ status: string; details: Record<string, Record<string, unknown>> }>('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details['storage']).toMatchObject({ status: 'up', storage: 'down', kind: 's3' });
    expect(ready.body.details['database']).toMatchObject({ status: 'up' });
    const list = await apiClient(svc.url, await testToken('acc-readiness'))<unknown[]>('GET', '/v2/docs/interactions');
    expect(list.status).toBe(200);
  });
});
