import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findSamples, readSamples } from '@papka/platform';
import { apiClient, freePort, REPO_ROOT } from '@papka/testing';

/**
 * `curl localhost:300{0,1,2,3}/metrics` in the embedded mode (`npm start`): every service of the
 * one process answers Prometheus text on its own app port, under its own `service` label.
 */
describe('metrics in the embedded mode', () => {
  let child: ChildProcess;
  let output = '';
  let token = '';
  const ports: Record<string, number> = {};
  const dataDir = mkdtempSync(path.join(tmpdir(), 'papka-embedded-metrics-'));

  const scrape = async (service: string) => {
    const res = await fetch(`http://127.0.0.1:${ports[service]}/metrics`);
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  beforeAll(async () => {
    for (const name of ['gateway', 'contractors', 'documents', 'interactions', 'postgres']) ports[name] = await freePort();
    child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/embedded/start.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(ports.gateway),
        CONTRACTORS_PORT: String(ports.contractors),
        DOCUMENTS_PORT: String(ports.documents),
        INTERACTIONS_PORT: String(ports.interactions),
        FINANCE_SYNC_PORT: String(await freePort()),
        PAPKA_PG_PORT: String(ports.postgres),
        PAPKA_DATA_DIR: dataDir,
        PAPKA_ACCOUNT: 'embedded-metrics',
        AUTH_JWT_SECRET: '',
        DADATA_API_KEY: '',
        METRICS_PORT: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const started = Date.now();
    while (!/token:\s+\S+/.test(output)) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
      if (Date.now() - started > 90_000) throw new Error(`npm start did not print a token:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    token = /token:\s+(\S+)/.exec(output)![1]!;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers Prometheus text on every app port, each under its own service label', async () => {
    for (const service of ['gateway', 'contractors', 'documents', 'interactions']) {
      const res = await scrape(service);
      expect({ service, status: res.status }).toEqual({ service, status: 200 });
      expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = readSamples(res.text);
      expect(samples.filter((s) => s.labels.service !== service)).toEqual([]);
      expect(findSamples(res.text, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
    }
  });

  it('has the HTTP duration by route template after a request, in the gateway and the service behind it', async () => {
    const api = apiClient(`http://127.0.0.1:${ports.gateway}`, token);
    const created = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 3, name: 'Сидоров Сидор' });
    expect(created.status).toBe(201);
    expect((await api('GET', `/v2/docs/contractors/${created.body.uuid}`)).status).toBe(200);
    for (const service of ['gateway', 'contractors']) {
      const { text } = await scrape(service);
      expect({ service, n: findSamples(text, 'http_request_duration_seconds_count', { route: '/v2/docs/contractors/:id', status_code: '200' }).length }).toEqual({
        service,
        n: 1,
      });
      expect(text).not.toContain(created.body.uuid);
    }
  });

  it('times a render and counts its job once a document is made', async () => {
    const api = apiClient(`http://127.0.0.1:${ports.gateway}`, token);
    const contractor = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 3, name: 'Кузнецов Кузьма' });
    const letter = (await api<{ uuid: string; name: string }[]>('GET', '/v2/docs/templates')).body.find((t) => t.name === 'Письмо')!;
    let made = { status: 0, body: { uuid: '' } };
    for (let i = 0; i < 50 && made.status !== 201; i++) {
      // The contractor reaches the documents replica through the in-process bus.
      made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', {
        type: 'Письмо',
        template: letter.uuid,
        name: 'Письмо',
        contractor: contractor.body.uuid,
        masks: { subject: 'Метрики', body: 'Добрый день!' },
      });
      if (made.status !== 201) await new Promise((r) => setTimeout(r, 200));
    }
    expect(made.status).toBe(201);
    expect((await api('GET', `/v2/docs/documents/${made.body.uuid}/download`)).status).toBe(200);
    const { text } = await scrape('documents');
    expect(findSamples(text, 'papka_render_enabled')[0]?.value).toBe(1);
    expect(findSamples(text, 'papka_render_duration_seconds_count', { outcome: 'ok' })[0]?.value).toBeGreaterThanOrEqual(1);
    expect(findSamples(text, 'papka_render_jobs_total')[0]?.value).toBeGreaterThanOrEqual(1);
    expect(findSamples(text, 'papka_render_pages')[0]?.value).toBeGreaterThanOrEqual(1);
  });

  it('has the outbox gauges, the in-process consumer lag (0) and the render pool', async () => {
    for (const service of ['contractors', 'documents', 'interactions']) {
      const { text } = await scrape(service);
      expect({ service, stuck: findSamples(text, 'papka_outbox_stuck')[0]?.value }).toEqual({ service, stuck: 0 });
      expect(findSamples(text, 'papka_outbox_pending')).toHaveLength(1);
    }
    const interactions = (await scrape('interactions')).text;
    expect(findSamples(interactions, 'papka_consumer_lag', { group: 'interactions', topic: 'papka.contractors.v1', partition: '0' })[0]?.value).toBe(0);
    const documents = (await scrape('documents')).text;
    for (const name of ['papka_render_enabled', 'papka_render_queue_length', 'papka_render_pages', 'papka_render_jobs_total', 'papka_render_browser_restarts_total']) {
      expect({ name, n: findSamples(documents, name).length }).toEqual({ name, n: 1 });
    }
  });
});
