import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { request } from 'undici';
import type { TokenVerifier } from '@papka/auth';
import { gatewayEnvSchema } from '../config';
import { createProxyHandler } from './proxy.handler';

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

/** What a service's pool can be made to do by callers that hold its connections. */
describe('the gateway with its connections to a service all taken', () => {
  let upstream: Server;
  let gateway: Server;
  let url: string;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const held: ServerResponse[] = [];
  const verifier = { verify: async () => ({ accountId: 'acc-1', userId: 'u-1' }) } as unknown as TokenVerifier;
  const auth = { authorization: 'Bearer good' };

  const warnings: string[] = [];

  beforeAll(async () => {
    const quiet = () => undefined;
    Logger.overrideLogger({ log: quiet, error: (m: unknown) => void warnings.push(String(m)), warn: (m: unknown) => void warnings.push(String(m)), debug: quiet, verbose: quiet });
    upstream = createServer((req, res) => {
      seen.push({ url: req.url!, headers: req.headers });
      req.resume();
      req.on('end', () => {
        // `/records` is held until the test lets it go: one call that keeps the only connection.
        if (req.url!.startsWith('/v2/finance/records')) held.push(res);
        else res.setHeader('content-type', 'application/json').end('{"status":"OK"}');
      });
    });
    const config = gatewayEnvSchema.parse({
      NODE_ENV: 'test',
      FINANCE_SYNC_URL: await listen(upstream),
      PROXY_CONNECTIONS: '1',
      PROXY_QUEUE_TIMEOUT_MS: '300',
      PUBLIC_BODY_TIMEOUT_MS: '300',
    });
    const handler = createProxyHandler(config, verifier);
    gateway = createServer((req, res) => handler.handle(req, res));
    url = await listen(gateway);
  });

  afterAll(async () => {
    for (const res of held) res.end();
    await new Promise((r) => gateway.close(r));
    await new Promise((r) => upstream.close(r));
  });

  it('answers 503 with Retry-After once PROXY_QUEUE_TIMEOUT_MS passes without a connection, instead of queueing for ever; the request is never sent', async () => {
    const first = request(`${url}/v2/finance/records`, { headers: auth });
    while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
    const second = await request(`${url}/v2/finance/connections`, { headers: auth });
    expect(second.statusCode).toBe(503);
    expect(second.headers['retry-after']).toBe('5');
    expect(await second.body.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });

    held.shift()!.setHeader('content-type', 'application/json').end('[]');
    expect((await first).statusCode).toBe(200);
    // The connection is free again: the next call goes through, and the one answered 503 never went out.
    expect((await request(`${url}/v2/finance/connections`, { headers: auth })).statusCode).toBe(200);
    expect(seen.map((s) => s.url)).toEqual(['/v2/finance/records', '/v2/finance/connections']);
  });

  it("reads a public route's body whole before it takes a connection: one trickled without a token never reaches the service, and gets 408", async () => {
    const before = seen.length;
    const socket = connect((gateway.address() as AddressInfo).port, '127.0.0.1');
    socket.write('POST /v2/finance/webhooks/adesk/guess HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{');
    // The answer, then the connection closed: the rest of that body is not waited for.
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('REQUEST_TIMEOUT');
    expect(seen.length).toBe(before);
    // A whole one goes through as before.
    const hook = await request(`${url}/v2/finance/webhooks/adesk/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"eventId":"e1"}' });
    expect(hook.statusCode).toBe(200);
    expect(seen.at(-1)!.url).toBe('/v2/finance/webhooks/adesk/hook');
  });

  it("does not log a client that hangs up before the service answers as the service's 502", async () => {
    const before = warnings.length;
    const gone = new AbortController();
    const call = request(`${url}/v2/finance/records?hang-up`, { headers: auth, signal: gone.signal }).catch((err: Error) => err);
    while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
    gone.abort();
    expect(await call).toMatchObject({ name: 'AbortError' });
    // The service's call is ended too (its response closes), and nothing is said about a failure.
    const res = held.shift()!;
    await new Promise((r) => (res.destroyed ? r(undefined) : res.once('close', r)));
    expect(warnings.slice(before)).toEqual([]);
  });

  it('does not pass on the headers that the request\'s Connection names, nor Proxy-Connection', async () => {
    // node:http sends the headers as given (undici drops a Connection header it does not know).
    await new Promise<void>((resolve, reject) =>
      httpRequest(`${url}/v2/finance/connections`, { headers: { ...auth, connection: 'keep-alive, X-Secret', 'x-secret': '1', 'proxy-connection': 'keep-alive', 'x-kept': '1' } }, (res) =>
        res.resume().on('end', resolve),
      )
        .on('error', reject)
        .end(),
    );
    const headers = seen.at(-1)!.headers;
    expect(headers['x-kept']).toBe('1');
    expect(headers['x-secret']).toBeUndefined();
    expect(headers['proxy-connection']).toBeUndefined();
  });
});
