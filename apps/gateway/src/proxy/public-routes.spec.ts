import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import express from 'express';
import request from 'supertest';
import { InvalidTokenError, type TokenVerifier } from '@papka/auth';
import { gatewayEnvSchema } from '../config';
import { PUBLIC_SENDER_FACTOR, createProxyHandler } from './proxy.handler';
import { RouteTable } from './route-table';
import { ROUTES } from './routes';

/** The one route without a bearer token (Adesk's webhook) and the ones that keep needing it. */
describe('public routes', () => {
  let upstream: Server;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let app: express.Express;
  const verifier = {
    verify: async (token: string) => {
      if (token !== 'good') throw new InvalidTokenError('bad token');
      return { accountId: 'acc-1', userId: 'u-1' };
    },
  } as unknown as TokenVerifier;

  beforeAll(async () => {
    Logger.overrideLogger(false); // the proxy's one line per request is noise here
    upstream = createServer((req, res) => {
      seen.push({ url: req.url!, headers: req.headers });
      req.resume();
      req.on('end', () => res.setHeader('content-type', 'application/json').end('{"status":"OK"}'));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const config = gatewayEnvSchema.parse({ NODE_ENV: 'test', FINANCE_SYNC_URL: url });
    app = express();
    app.use('/v2', createProxyHandler(config, verifier));
  });

  afterAll(() => new Promise((r) => upstream.close(r)));

  it('flags exactly the Adesk webhook as public', () => {
    expect(ROUTES.filter((r) => r.public).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v2/finance/webhooks/adesk/:hookToken']);
    expect(new RouteTable(ROUTES).match('POST', '/v2/finance/webhooks/adesk/abc')).toMatchObject({ kind: 'found', route: { upstream: 'finance-sync', public: true } });
  });

  it('forwards the webhook without a token, with the origin the caller used', async () => {
    const res = await request(app).post('/v2/finance/webhooks/adesk/hook-secret').set('host', 'papka.example:8080').send({ eventId: 'e1', data: [] });
    expect(res.status).toBe(200);
    expect(seen.at(-1)).toMatchObject({
      url: '/v2/finance/webhooks/adesk/hook-secret',
      headers: { 'x-forwarded-host': 'papka.example:8080', 'x-forwarded-proto': 'http' },
    });
    expect(seen.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('keeps an ingress’s forwarded host and proto', async () => {
    await request(app).get('/v2/finance/connections').set('authorization', 'Bearer good').set('x-forwarded-host', 'api.papka.ru').set('x-forwarded-proto', 'https');
    expect(seen.at(-1)!.headers).toMatchObject({ 'x-forwarded-host': 'api.papka.ru', 'x-forwarded-proto': 'https' });
  });

  it.each([
    ['GET', '/v2/finance/connections'],
    ['PUT', '/v2/finance/connections/adesk'],
    ['DELETE', '/v2/finance/connections/adesk'],
    ['GET', '/v2/finance/records'],
    ['POST', '/v2/finance/records/retry'],
    ['GET', '/v2/finance/reconciliation/adesk'],
    ['GET', '/v2/finance/webhooks/adesk/abc'], // another method on the public path is not public
    ['POST', '/v2/finance/webhooks/moysklad/abc'], // nor a target without a public route
  ])('401s %s %s without a token, and never reaches the service', async (method, path) => {
    const before = seen.length;
    const res = await request(app)[method.toLowerCase() as 'get'](path);
    expect(res.status).toBe(401);
    expect(seen.length).toBe(before);
  });

  it('answers 503 SERVICE_NOT_AVAILABLE for finance routes when FINANCE_SYNC_URL is unset, the webhook too', async () => {
    const bare = express();
    bare.use('/v2', createProxyHandler(gatewayEnvSchema.parse({ NODE_ENV: 'test' }), verifier));
    expect((await request(bare).get('/v2/finance/connections').set('authorization', 'Bearer good')).body).toMatchObject({ code: 'SERVICE_NOT_AVAILABLE' });
    const hook = await request(bare).post('/v2/finance/webhooks/adesk/abc').send({});
    expect({ status: hook.status, code: hook.body.code }).toEqual({ status: 503, code: 'SERVICE_NOT_AVAILABLE' });
  });
});

/** The webhook's rate limit: keyed by something its anonymous caller cannot choose. */
describe('the public route rate limit', () => {
  let upstream: Server;
  let base: string;
  let hits = 0;
  const verifier = { verify: async () => ({ accountId: 'acc-1', userId: 'u-1' }) } as unknown as TokenVerifier;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    upstream = createServer((req, res) => {
      hits++;
      req.resume();
      req.on('end', () => res.setHeader('content-type', 'application/json').end('{"status":"OK"}'));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((r) => upstream.close(r)));

  const gateway = (env: Record<string, string> = {}) => {
    const app = express();
    app.use('/v2', createProxyHandler(gatewayEnvSchema.parse({ NODE_ENV: 'test', FINANCE_SYNC_URL: base, RATE_LIMIT_POINTS: '5', RATE_LIMIT_WINDOW_SECONDS: '60', ...env }), verifier));
    return app;
  };

  /** The statuses of `n` webhook calls, each to another hook token (and another trailing form). */
  const flood = async (app: express.Express, n: number, forwardedFor?: (i: number) => string) => {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      const call = request(app).post(`/v2/finance/webhooks/adesk/t${i}${i % 2 ? '/' : ''}`);
      if (forwardedFor) call.set('x-forwarded-for', forwardedFor(i));
      statuses.push((await call.send({ eventId: `e${i}` })).status);
    }
    return statuses;
  };

  // RATE_LIMIT_POINTS 5: each hook 5, a sender PUBLIC_SENDER_FACTOR × 5.
  const ceiling = 5 * PUBLIC_SENDER_FACTOR;

  it('limits one client however many hook tokens it tries (it had a bucket per path)', async () => {
    const before = hits;
    const statuses = await flood(gateway(), ceiling + 20);
    expect(statuses.slice(0, ceiling).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(ceiling)).toEqual(Array(20).fill(429));
    expect(hits - before).toBe(ceiling);
  });

  it("keeps each hook within one token's limit, and one hook's burst off another's from the same sender (Adesk sends every tenant's)", async () => {
    const app = gateway();
    const one = [];
    for (let i = 0; i < 7; i++) one.push((await request(app).post('/v2/finance/webhooks/adesk/busy-tenant').send({ eventId: `b${i}` })).status);
    expect(one).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect((await request(app).post('/v2/finance/webhooks/adesk/quiet-tenant').send({ eventId: 'q' })).status).toBe(200);
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY_HOPS says a proxy sets it: a client cannot forge itself new buckets', async () => {
    const statuses = await flood(gateway(), ceiling + 10, (i) => `203.0.113.${i % 250}`);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it('with TRUST_PROXY_HOPS=1, keys by the address the proxy in front appended, not by what the client put before it', async () => {
    const app = gateway({ TRUST_PROXY_HOPS: '1' });
    // The same client (as the proxy saw it) with a different forged entry each time: one sender.
    expect((await flood(app, ceiling + 10, (i) => `198.51.100.${i % 250}, 203.0.113.7`)).filter((s) => s === 429)).toHaveLength(10);
    // Another client behind the same proxy has its own.
    expect(await flood(app, 3, () => '203.0.113.8')).toEqual([200, 200, 200]);
  });
});
