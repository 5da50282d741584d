import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import { request } from 'undici';
import type { TokenVerifier } from '@papka/auth';
import { gatewayEnvSchema } from '../config';
import { createProxyHandler } from './proxy.handler';

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

const account = { accountId: 'acc-1', userId: 'u-1' };
const auth = { authorization: 'Bearer good' };

/** A promise with its resolve outside. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** What a raw client gets back: everything the gateway sent, once it closes the connection. */
const answerOf = (socket: Socket) =>
  new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('close', () => resolve(text));
  });

/**
 * A gateway with one connection to documents (PROXY_CONNECTIONS=1), whose stand-in answers
 * `GET /v2/docs/ready` at once and does what `upstream` says for the rest.
 */
async function start(env: Record<string, string>, upstream: (req: IncomingMessage, res: ServerResponse) => void, verifier?: TokenVerifier) {
  const service = createServer((req, res) => {
    if (req.url === '/v2/docs/ready') {
      req.resume();
      return void res.setHeader('content-type', 'application/json').end('[]');
    }
    upstream(req, res);
  });
  const config = gatewayEnvSchema.parse({
    NODE_ENV: 'test',
    DOCUMENTS_URL: await listen(service),
    PROXY_CONNECTIONS: '1',
    PROXY_QUEUE_TIMEOUT_MS: '300',
    ...env,
  });
  const handler = createProxyHandler(config, verifier ?? ({ verify: async () => account } as unknown as TokenVerifier));
  const gateway = createServer((req, res) => handler.handle(req, res));
  const sockets: Socket[] = [];
  gateway.on('connection', (s: Socket) => sockets.push(s));
  const url = await listen(gateway);
  const port = (gateway.address() as AddressInfo).port;
  return {
    url,
    port,
    sockets,
    close: async () => {
      gateway.closeAllConnections();
      service.closeAllConnections();
      await new Promise((r) => gateway.close(r));
      await new Promise((r) => service.close(r));
    },
  };
}

/** A service's pool must not be held by a client that is gone or that stopped sending (nor by a service that stopped answering). */
describe('the gateway holds no connection to a service for a client that is gone or stalled', () => {
  beforeAll(() => Logger.overrideLogger(false));

  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it.each([
    ['chunked', 'Transfer-Encoding: chunked\r\n\r\n10\r\naaaaaaaaaaaaaaaa\r\n'],
    ['declared over 64 KiB', `Content-Length: ${128 * 1024}\r\n\r\n${'a'.repeat(16)}`],
  ])('takes no connection for an upload (%s) whose client went away while its token was checked', async (_kind, rest) => {
    const checking = deferred();
    const release = deferred();
    const verifier = {
      verify: async () => {
        checking.resolve();
        await release.promise;
        return account;
      },
    } as unknown as TokenVerifier;
    const reached: string[] = [];
    // An upload that reaches the service is read for ever: it would hold the only connection.
    const gw = await start({}, (req) => void (reached.push(req.url!), req.resume()), verifier);
    stop = gw.close;

    const client = connect(gw.port, '127.0.0.1');
    client.write(`POST /v2/docs/upload HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer slow\r\nContent-Type: application/pdf\r\n${rest}`);
    await checking.promise;
    const closed = new Promise((r) => gw.sockets[0]!.once('close', r));
    client.destroy();
    await closed; // the gateway has seen the client go, and the token check is still running
    release.resolve();

    // The one connection is free: the next call gets it (it had waited PROXY_QUEUE_TIMEOUT_MS for a 503).
    const next = await request(`${gw.url}/v2/docs/ready`, { headers: auth });
    await next.body.text();
    expect(next.statusCode).toBe(200);
    expect(reached).toEqual([]);
  });

  it('answers 408 to an upload that stops sending for PROXY_BODY_IDLE_MS, and ends the call to the service', async () => {
    const upstreamGone = deferred();
    const gw = await start({ PROXY_BODY_IDLE_MS: '200' }, (req) => {
      req.resume();
      req.socket.once('close', () => upstreamGone.resolve());
    });
    stop = gw.close;

    const client = connect(gw.port, '127.0.0.1');
    const answer = answerOf(client);
    client.write('POST /v2/docs/upload HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer good\r\nContent-Type: application/pdf\r\nTransfer-Encoding: chunked\r\n\r\n');
    client.write(`4000\r\n${'a'.repeat(0x4000)}\r\n`); // one chunk, then nothing, the socket open

    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 'ERROR', code: 'REQUEST_TIMEOUT' });
    await upstreamGone.promise; // the service's side of the call is closed
    // And the connection is free for the next call.
    expect((await request(`${gw.url}/v2/docs/ready`, { headers: auth })).statusCode).toBe(200);
  });

  it('answers 408 to a small body (read whole before it is sent) that stops arriving, without calling the service', async () => {
    const reached: string[] = [];
    const gw = await start({ PROXY_BODY_IDLE_MS: '200' }, (req) => void (reached.push(req.url!), req.resume()));
    stop = gw.close;
    const client = connect(gw.port, '127.0.0.1');
    const answer = answerOf(client);
    client.write('POST /v2/docs/constructor HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer good\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('REQUEST_TIMEOUT');
    expect(reached).toEqual([]);
  });

  it('does not count the time a slow service takes to read an upload against the client', async () => {
    // The service does not read for a while: the gateway stops reading the client (backpressure),
    // and the client, which has sent its whole body, is not at fault.
    const reading = deferred();
    const waited = deferred();
    let received = 0;
    const gw = await start({ PROXY_BODY_IDLE_MS: '100' }, (req, res) => {
      req.pause();
      reading.resolve();
      void waited.promise.then(() => {
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('end', () => res.setHeader('content-type', 'application/json').end('{"status":"OK"}'));
        req.resume();
      });
    });
    stop = gw.close;
    const body = Buffer.alloc(16 * 1024 * 1024, 0x61);
    const call = request(`${gw.url}/v2/docs/upload`, { method: 'POST', headers: { ...auth, 'content-type': 'application/pdf' }, body });
    await reading.promise;
    // Several idle timeouts pass while the service reads nothing; a slower machine only waits longer.
    await new Promise((r) => setTimeout(r, 1_000));
    waited.resolve();
    const res = await call;
    await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(received).toBe(body.length);
  });

  it("cuts an answer whose body stops arriving for PROXY_RESPONSE_IDLE_MS: the client's connection ends, and so does the service's", async () => {
    const upstreamClosed = deferred();
    const gw = await start({ PROXY_RESPONSE_IDLE_MS: '200' }, (req, res) => {
      req.resume();
      res.once('close', () => upstreamClosed.resolve());
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(100_000) });
      res.write(Buffer.alloc(1_000, 0x61)); // then nothing
    });
    stop = gw.close;
    const res = await request(`${gw.url}/v2/docs/ready/11111111-1111-4111-8111-111111111111/download`, { headers: auth });
    expect(res.statusCode).toBe(200);
    // The client sees the answer cut short (it would otherwise wait for the other 99 000 bytes for ever).
    await expect(res.body.arrayBuffer()).rejects.toThrow();
    await upstreamClosed.promise;
  });
});
