import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { request } from 'undici';
import { apiClient, baseUrl, TEST_JWT_SECRET, testToken } from '@papka/testing';
import { bootstrap } from '../src/bootstrap';

/**
 * The gateway against a stand-in upstream that echoes what it receives, so the tests see
 * exactly what the gateway forwards (the real contractors service is covered in
 * apps/contractors/test).
 */
describe('gateway', () => {
  let upstream: Server;
  let upstreamUrl: string;
  const received: { method: string; url: string; headers: Record<string, unknown>; bytes: number }[] = [];
  let gateway: INestApplication;
  let base: string;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, bytes });
        if (req.url === '/openapi.json') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ paths: { '/v2/contractors': { get: { summary: 'List contractors' } } }, components: { schemas: { ContractorView: { type: 'object' } } } }));
          return;
        }
        if (req.url?.startsWith('/stream')) return void res.end();
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-upstream', 'yes');
        res.end(JSON.stringify({ ok: true, bytes }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gateway = await bootstrap({
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      CONTRACTORS_URL: upstreamUrl,
      RATE_LIMIT_POINTS: '5',
      RATE_LIMIT_WINDOW_SECONDS: '2',
      BODY_LIMIT_BYTES: '2048',
    });
    base = baseUrl(gateway);
  });

  afterAll(async () => {
    await gateway?.close();
    await new Promise((r) => upstream.close(r));
  });

  it('forwards path, query, body and the token, and returns the upstream answer', async () => {
    const api = apiClient(base, await testToken('gw-1'));
    const res = await api('POST', '/v2/docs/contractors?x=1', { name: 'Ромашка' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, bytes: Buffer.byteLength(JSON.stringify({ name: 'Ромашка' })) });
    expect(res.headers.get('x-upstream')).toBe('yes');
    const seen = received.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', url: '/v2/docs/contractors?x=1' });
    expect(String(seen.headers.authorization)).toMatch(/^Bearer /);
    expect(seen.headers['x-request-id']).toBe(res.headers.get('x-request-id'));
  });

  it('keeps a request id the client sends', async () => {
    const api = apiClient(base, await testToken('gw-2'));
    const res = await api('GET', '/v2/contractors', undefined, { headers: { 'x-request-id': 'client-id-123' } });
    expect(res.headers.get('x-request-id')).toBe('client-id-123');
    expect(received.at(-1)!.headers['x-request-id']).toBe('client-id-123');
  });

  it("continues the caller's trace to the upstream under the gateway's own span id, without an exporter", async () => {
    const api = apiClient(base, await testToken('gw-trace'));
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const callerSpan = 'b7ad6b7169203331';
    await api('GET', '/v2/contractors', undefined, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    const sent = String(received.at(-1)!.headers.traceparent);
    expect(sent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(sent).not.toContain(callerSpan);
  });

  it('401s without a valid token and never reaches the upstream', async () => {
    const before = received.length;
    expect((await apiClient(base)('GET', '/v2/contractors')).status).toBe(401);
    expect((await apiClient(base, 'x.y.z')('GET', '/v2/contractors')).status).toBe(401);
    expect(received.length).toBe(before);
  });

  it('limits requests per token with 429 and Retry-After, other tokens unaffected', async () => {
    const api = apiClient(base, await testToken('gw-burst'));
    const statuses: number[] = [];
    let limited: Headers | null = null;
    for (let i = 0; i < 8; i++) {
      const res = await api('GET', '/v2/contractors');
      statuses.push(res.status);
      if (res.status === 429) limited = res.headers;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(Number(limited!.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await apiClient(base, await testToken('gw-calm'))('GET', '/v2/contractors')).status).toBe(200);
  });

  it('answers 503 for routes of services not deployed yet, 404 for unknown routes, 405 for a wrong verb', async () => {
    const api = apiClient(base, await testToken('gw-3'));
    const docs = await api<{ code: string; message: string }>('GET', '/v2/docs/documents');
    expect(docs.status).toBe(503);
    expect(docs.body).toMatchObject({ status: 'ERROR', code: 'SERVICE_NOT_AVAILABLE' });
    expect(docs.body.message).toContain('documents');
    expect((await api('GET', '/v2/nothing-here')).status).toBe(404);
    const wrongVerb = await api('PUT', '/v2/contractors');
    expect(wrongVerb.status).toBe(405);
    expect(wrongVerb.headers.get('allow')).toBe('GET');
  });

  it('413s a body over the limit, declared or streamed chunked', async () => {
    const token = await testToken('gw-4');
    const declared = await apiClient(base, token)('POST', '/v2/docs/contractors', { name: 'x'.repeat(4096) });
    expect(declared).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });

    const chunks = Readable.from((function* () {
      for (let i = 0; i < 8; i++) yield Buffer.alloc(1024, 0x61);
    })());
    const chunked = await request(`${base}/v2/docs/contractors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: chunks,
    });
    const text = await chunked.body.text();
    expect(chunked.statusCode).toBe(413);
    expect(JSON.parse(text)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('503s cleanly when the upstream is down', async () => {
    const down = await bootstrap({
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      CONTRACTORS_URL: 'http://127.0.0.1:9', // nothing listens on the discard port
    });
    try {
      const res = await apiClient(baseUrl(down), await testToken('gw-5'))<{ code: string }>('GET', '/v2/contractors');
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });

  it('serves the merged OpenAPI document and the docs UI without a token', async () => {
    const doc = await apiClient(base)<{ paths: Record<string, object>; components: { schemas: object } }>('GET', '/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.paths['/v2/contractors']).toEqual({ get: { summary: 'List contractors' } });
    expect(doc.body.components.schemas).toHaveProperty('ContractorView');
    // Routes of services not deployed are still documented (with their 503).
    expect(doc.body.paths['/v2/docs/documents/{id}/download']).toHaveProperty('get.responses.503');
    const ui = await request(`${base}/docs/`);
    expect(ui.statusCode).toBe(200);
    expect(await ui.body.text()).toContain('swagger');
  });

  it('exposes /health/live and /health/ready', async () => {
    const live = await apiClient(base)('GET', '/health/live');
    expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await apiClient(base)<{ status: string; details: Record<string, { state: string }> }>('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.documents.state).toBe('not deployed');
  });
});
