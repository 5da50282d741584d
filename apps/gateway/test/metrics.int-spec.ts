import { findSamples, readSamples } from '@papka/platform';
import {
  apiClient,
  createTestDatabase,
  dropDatabase,
  eventually,
  freePort,
  infraEnv,
  s3Env,
  serviceEnv,
  startService,
  testToken,
  type RunningService,
} from '@papka/testing';

const scrape = async (url: string) => {
  const res = await fetch(`${url}/metrics`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
};

/**
 * Prometheus metrics as Kubernetes runs the services (each its own process, on Kafka, with
 * METRICS_PORT): `/metrics` only on the metrics port, labelled by service, with the HTTP
 * durations by route template, the outbox backlog, the consumer lag and the render pool; and a
 * stuck outbox reported as degraded without failing readiness.
 */
describe('metrics (Kafka, METRICS_PORT)', () => {
  const dbs: string[] = [];
  const services: Record<string, RunningService> = {};
  const metricsUrl: Record<string, string> = {};

  const start = async (name: string, env: Record<string, string | undefined>) => {
    const port = await freePort();
    services[name] = await startService(name, serviceEnv({ ...env, METRICS_PORT: String(port) }));
    metricsUrl[name] = `http://127.0.0.1:${port}`;
  };

  beforeAll(async () => {
    const [contractorsDb, documentsDb, interactionsDb] = [
      await createTestDatabase('met_contractors'),
      await createTestDatabase('met_documents'),
      await createTestDatabase('met_interactions'),
    ];
    dbs.push(contractorsDb, documentsDb, interactionsDb);
    await start('contractors', { DATABASE_URL: contractorsDb });
    await start('documents', { DATABASE_URL: documentsDb, ...s3Env(), CHROMIUM_PATH: infraEnv().CHROMIUM_PATH, RENDER_PAGES: '1' });
    await start('interactions', { DATABASE_URL: interactionsDb, ...s3Env() });
    await start('gateway', {
      CONTRACTORS_URL: services.contractors!.url,
      DOCUMENTS_URL: services.documents!.url,
      INTERACTIONS_URL: services.interactions!.url,
      RATE_LIMIT_POINTS: '10000',
    });
  });

  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    for (const db of dbs) await dropDatabase(db);
  });

  it('answers Prometheus text on each metrics port, every series labelled with its service, and not on the app port', async () => {
    for (const name of ['gateway', 'contractors', 'documents', 'interactions']) {
      const res = await scrape(metricsUrl[name]!);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = readSamples(res.text);
      expect(samples.length).toBeGreaterThan(20);
      expect(samples.filter((s) => s.labels.service !== name)).toEqual([]);
      expect(findSamples(res.text, 'process_resident_memory_bytes')).toHaveLength(1); // the process defaults
      // The app port (the gateway's is behind the Ingress) has no /metrics.
      expect({ name, status: (await fetch(`${services[name]!.url}/metrics`)).status }).toEqual({ name, status: 404 });
    }
    // Nor does any public route lead to one (only /v2/** is proxied).
    const api = apiClient(services.gateway!.url, await testToken('met-acc'));
    expect((await api('GET', '/v2/metrics')).status).toBe(404);
  });

  it('times requests by route template and status in the gateway and the service, never by the raw id', async () => {
    const api = apiClient(services.gateway!.url, await testToken('met-acc'));
    const created = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 3, name: 'Иванов Иван' });
    expect(created.status).toBe(201);
    const id = created.body.uuid;
    expect((await api('GET', `/v2/docs/contractors/${id}`)).status).toBe(200);
    expect((await apiClient(services.gateway!.url)('GET', `/v2/docs/contractors/${id}`)).status).toBe(401);

    const gateway = (await scrape(metricsUrl.gateway!)).text;
    const count = (text: string, labels: Record<string, string>) =>
      findSamples(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v2/docs/contractors/:id', ...labels }).reduce((n, s) => n + s.value, 0);
    expect(count(gateway, { status_code: '200' })).toBe(1);
    expect(count(gateway, { status_code: '401' })).toBe(1); // labelled by its template even when refused before routing
    expect(gateway).not.toContain(id);

    const contractors = (await scrape(metricsUrl.contractors!)).text;
    expect(count(contractors, { status_code: '200' })).toBe(1);
    expect(contractors).not.toContain(id);
  });

  it('reports the outbox backlog of each service with a database', async () => {
    for (const name of ['contractors', 'documents', 'interactions']) {
      const text = (await scrape(metricsUrl[name]!)).text;
      for (const gauge of ['papka_outbox_pending', 'papka_outbox_oldest_age_seconds', 'papka_outbox_rejected', 'papka_outbox_stuck']) {
        expect({ name, gauge, samples: findSamples(text, gauge).length }).toEqual({ name, gauge, samples: 1 });
      }
      expect(findSamples(text, 'papka_outbox_stuck')[0]!.value).toBe(0);
    }
  });

  it('reports consumer lag per group and partition from the broker, down to 0 once consumed', async () => {
    // interactions reads papka.contractors.v1 (3 partitions) and has caught up with the contractor created above.
    const lags = await eventually(async () => {
      const samples = findSamples((await scrape(metricsUrl.interactions!)).text, 'papka_consumer_lag', { group: 'interactions', topic: 'papka.contractors.v1' });
      return samples.length === 3 && samples.every((s) => s.value === 0) ? samples : null;
    }, 30_000, 1_000);
    expect(lags.map((s) => s.labels.partition).sort()).toEqual(['0', '1', '2']);
    const documents = (await scrape(metricsUrl.documents!)).text;
    expect(findSamples(documents, 'papka_consumer_lag', { group: 'documents-renderer', topic: 'papka.render-requests.v1' }).length).toBe(3);
    expect(findSamples(documents, 'papka_events_retried_total')).toEqual([]); // nothing failed (no series until something does)
  });

  it('reports the render pool of documents', async () => {
    const text = (await scrape(metricsUrl.documents!)).text;
    const one = (name: string) => findSamples(text, name)[0]?.value;
    expect(one('papka_render_enabled')).toBe(1);
    expect(one('papka_render_pages')).toBe(1);
    expect(one('papka_render_queue_length')).toBe(0);
    for (const name of ['papka_render_pages_idle', 'papka_render_jobs_total', 'papka_render_browser_restarts_total', 'papka_render_page_recycles_total']) {
      expect({ name, value: typeof one(name) }).toEqual({ name, value: 'number' });
    }
  });

  it('reports an outbox stuck behind an unreachable broker as degraded, in readiness details and metrics, still ready', async () => {
    const deadBroker = await freePort();
    const db = await createTestDatabase('met_stuck');
    dbs.push(db);
    // No METRICS_PORT here: /metrics on the app port (the embedded and compose setting).
    const stuck = await startService(
      'contractors',
      serviceEnv({ DATABASE_URL: db, KAFKA_BROKERS: `127.0.0.1:${deadBroker}`, OUTBOX_STUCK_SECONDS: '1' }),
    );
    services.stuck = stuck;
    const api = apiClient(stuck.url, await testToken('met-stuck'));
    expect((await api('POST', '/v2/docs/contractors', { type: 3, name: 'Петров Пётр' })).status).toBe(201);

    const ready = await eventually(async () => {
      const res = await api<{ status: string; details: { eventBus: Record<string, unknown> } }>('GET', '/health/ready');
      return res.body.details?.eventBus?.outbox === 'degraded' ? res : null;
    }, 20_000, 500);
    expect(ready.status).toBe(200); // not taken out of rotation: the outbox keeps the event
    expect(ready.body.details.eventBus).toMatchObject({ status: 'up', broker: 'down', outbox: 'degraded', outboxStuckSeconds: 1, outboxPending: 1 });
    expect((await api('GET', '/health/live')).status).toBe(200);

    const text = (await scrape(stuck.url)).text;
    expect(findSamples(text, 'papka_outbox_stuck', { service: 'contractors' })[0]?.value).toBe(1);
    expect(findSamples(text, 'papka_outbox_pending')[0]?.value).toBe(1);
    expect(findSamples(text, 'papka_outbox_oldest_age_seconds')[0]?.value).toBeGreaterThan(1);
  });
});
