import { connect, createServer, type Server, type Socket } from 'node:net';
import { Client } from 'pg';
import { apiClient, createTestDatabase, dropDatabase, eventually, freePort, infraEnv, s3Env, serviceEnv, startService, testToken, type RunningService } from '@papka/testing';

/**
 * A documents replica started while Kafka cannot be reached (a scale-out or a node drain during
 * a broker outage) serves its API at once, and its consumers join once the broker answers.
 * `KAFKA_BROKERS` points at a port that refuses connections until the test opens a forwarder
 * there to the real broker (kafkajs then learns the broker's own address from it).
 */
describe('documents started while Kafka is unreachable (PostgreSQL, MinIO, then Kafka)', () => {
  const [kafkaHost, kafkaPort] = infraEnv().KAFKA_BROKERS.split(',')[0]!.split(':');
  const dbs: string[] = [];
  const services: RunningService[] = [];
  let forwarder: Server | null = null;
  const sockets = new Set<Socket>();

  afterAll(async () => {
    for (const s of services) await s.stop();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)));
    for (const db of dbs) await dropDatabase(db);
  });

  it('serves its API and reports ready with the broker down, then consumes once the broker is back', async () => {
    const laterBroker = await freePort();
    const documentsDb = await createTestDatabase('docs_kafka_down');
    const contractorsDb = await createTestDatabase('contr_kafka_down');
    dbs.push(documentsDb, contractorsDb);
    const documents = await startService(
      'documents',
      serviceEnv({ ...s3Env(), DATABASE_URL: documentsDb, KAFKA_BROKERS: `127.0.0.1:${laterBroker}`, RENDER_ENABLED: 'false' }),
      { timeoutMs: 90_000 },
    );
    services.push(documents);
    const api = apiClient(documents.url, await testToken('kafka-down'));
    const templates = await api<{ name: string }[]>('GET', '/v2/docs/templates');
    expect(templates.status).toBe(200);
    expect(templates.body.map((t) => t.name)).toContain('Письмо');
    const ready = await api<{ details: { eventBus: Record<string, unknown> } }>('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.eventBus).toMatchObject({ status: 'up', broker: 'down' });

    // The broker comes back at the address the replica was given.
    forwarder = createServer((client) => {
      const upstream = connect(Number(kafkaPort), kafkaHost);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => forwarder!.listen(laterBroker, '127.0.0.1', resolve));

    const contractors = await startService('contractors', serviceEnv({ DATABASE_URL: contractorsDb }));
    services.push(contractors);
    const created = await apiClient(contractors.url, await testToken('kafka-down'))<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 3, name: 'Петров Пётр' });
    expect(created.status).toBe(201);
    // Its consumer started again by itself: the contractor reaches the documents replica.
    await eventually(async () => {
      const db = new Client({ connectionString: documentsDb });
      await db.connect();
      try {
        return (await db.query('SELECT 1 FROM contractor_replica WHERE id = $1', [created.body.uuid])).rowCount === 1;
      } finally {
        await db.end();
      }
    }, 90_000, 500);
  }, 240_000);
});
