import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { generateKeyPair, SignJWT } from 'jose';
import { request } from 'undici';
import { baseUrl, eventually, freePort, TEST_JWT_SECRET, testToken } from '@papka/testing';
import { bootstrap } from '../src/bootstrap';

/** The gateway in this process, quiet, its contractors upstream a closed port; `env` on top. */
async function startGateway(env: Record<string, string>): Promise<INestApplication> {
  return bootstrap({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    CONTRACTORS_URL: `http://127.0.0.1:${await freePort()}`,
    ...env,
  });
}

/**
 * What the gateway answers when the upstream gives no answer: 503 with Retry-After only when
 * the request surely never reached the upstream; 502 without Retry-After when it may have
 * (a client that repeats it could apply it twice); 504 without Retry-After on PROXY_TIMEOUT_MS.
 * An upstream's own 503 is passed through as it is.
 */
describe('gateway: upstream outcome', () => {
  let upstream: Server;
  let gateway: INestApplication;
  let base: string;
  let token: string;
  /** Requests the stand-in upstream received, by drill. */
  const seen: Record<string, number> = {};
  /** Drills whose upstream request or response has closed. */
  const streamClosed: Record<string, boolean> = {};

  beforeAll(async () => {
    // Each drill is chosen by the x-drill header, which the gateway forwards.
    upstream = createServer((req: IncomingMessage, res) => {
      const drill = String(req.headers['x-drill'] ?? 'ok');
      seen[drill] = (seen[drill] ?? 0) + 1;
      if (drill === 'die-mid-request') {
        // Dies while the body is still coming: the request may or may not have been acted on.
        req.once('data', () => req.socket.destroy());
        return;
      }
      if (drill === 'silent') return void req.resume(); // never answers
      if (drill === 'endless-download') {
        // Streams for as long as it is read, as a big file download does; says when it ends.
        res.once('close', () => (streamClosed[drill] = true));
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        return void pump();
      }
      if (drill === 'endless-upload') {
        // Reads a body that never ends; says when the request goes away.
        req.resume();
        return void req.socket.once('close', () => (streamClosed[drill] = true));
      }
      if (drill === 'expect') {
        // Whether the header reached the service (it must not: it is the gateway's hop).
        req.resume();
        return void req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ expect: req.headers.expect ?? null }));
        });
      }
      if (drill === 'refuse-unread') {
        // Refuses on the headers alone, as documents does an upload declared over its cap.
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        return void res.end(JSON.stringify({ status: 'ERROR', code: 'PAYLOAD_TOO_LARGE' }));
      }
      req.resume();
      req.on('end', () => {
        if (drill === 'drop-after-read') return void req.socket.destroy(); // read it all, never answered
        if (drill === 'own-503') {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7', 'x-upstream': 'yes' });
          return void res.end(JSON.stringify({ status: 'ERROR', code: 'STORAGE_UNAVAILABLE', message: 'from upstream' }));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gateway = await startGateway({
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      DOCUMENTS_URL: upstreamUrl,
      PROXY_TIMEOUT_MS: '700',
      RATE_LIMIT_POINTS: '1000',
    });
    base = baseUrl(gateway);
    token = await testToken('gw-outcome');
  });

  afterAll(async () => {
    await gateway?.close();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  async function call(method: 'GET' | 'POST', path: string, drill?: string, body?: string | Buffer) {
    const res = await request(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(drill ? { 'x-drill': drill } : {}),
      },
      body,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  }

  it('answers 503 with Retry-After when nothing listens: the request surely never arrived', async () => {
    for (const res of [
      await call('POST', '/v2/docs/contractors', undefined, JSON.stringify({ name: 'Ромашка' })),
      await call('GET', '/v2/contractors'),
    ]) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toMatchObject({ status: 'ERROR', code: 'UPSTREAM_UNAVAILABLE' });
    }
  });

  it('answers 502 without Retry-After when the upstream read the request and dropped the connection', async () => {
    for (const method of ['POST', 'GET'] as const) {
      const before = seen['drop-after-read'] ?? 0;
      const res = await call(method, method === 'POST' ? '/v2/docs/constructor' : '/v2/docs/templates', 'drop-after-read', method === 'POST' ? JSON.stringify({ name: 'x' }) : undefined);
      expect(res.status).toBe(502);
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.body).toMatchObject({ status: 'ERROR', code: 'UPSTREAM_OUTCOME_UNKNOWN' });
      expect(seen['drop-after-read']).toBe(before + 1); // delivered once, and the gateway did not repeat it
    }
  });

  it('answers 502 without Retry-After when the upstream died mid-request', async () => {
    const res = await call('POST', '/v2/docs/constructor', 'die-mid-request', Buffer.alloc(512 * 1024, 0x61));
    expect(res.status).toBe(502);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.body).toMatchObject({ code: 'UPSTREAM_OUTCOME_UNKNOWN' });
  });

  it("passes the upstream's own 503 through as it is", async () => {
    const res = await call('POST', '/v2/docs/constructor', 'own-503', JSON.stringify({ name: 'x' }));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.body).toEqual({ status: 'ERROR', code: 'STORAGE_UNAVAILABLE', message: 'from upstream' });
  });

  it('answers 504 without Retry-After when the upstream does not answer within PROXY_TIMEOUT_MS', async () => {
    const res = await call('POST', '/v2/docs/constructor', 'silent', JSON.stringify({ name: 'x' }));
    expect(res.status).toBe(504);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.body).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });

  it('ends the upstream call when the client goes away mid-download, so its pooled connection is freed', async () => {
    const res = await request(`${base}/v2/docs/templates`, { headers: { authorization: `Bearer ${token}`, 'x-drill': 'endless-download' } });
    expect(res.statusCode).toBe(200);
    // Read a little, stop reading (the gateway waits for the client to drain), then go away.
    for await (const _ of res.body) break;
    await eventually(async () => streamClosed['endless-download'] === true, 10_000);
  });

  it('ends the upstream call when the client goes away mid-upload', async () => {
    const client = await rawClient();
    await client.send(
      `POST /v2/docs/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Drill: endless-upload\r\nContent-Type: application/pdf\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    await client.send(`10000\r\n${'a'.repeat(0x10000)}\r\n`);
    await eventually(async () => (seen['endless-upload'] ?? 0) > 0, 10_000);
    client.socket.destroy();
    await eventually(async () => streamClosed['endless-upload'] === true, 10_000);
  });

  it('takes a body sent after Expect: 100-continue, and does not pass the header on', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const answer = await new Promise<{ status: number; continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest(`${base}/v2/docs/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'x-drill': 'expect', 'content-type': 'application/pdf', 'content-length': body.length, expect: '100-continue' },
      });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, continued, body: text }));
      });
      req.on('error', reject);
    });
    expect(answer).toEqual({ status: 200, continued: true, body: JSON.stringify({ expect: null }) });
  });

  /**
   * A raw client on one connection, so the order of what is sent and answered is fixed.
   * `answers(n)` resolves with the statuses (and heads) once n complete answers have come.
   */
  async function rawClient() {
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    socket.setEncoding('latin1');
    let received = '';
    let closed = false;
    const ended = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined); // a write after the gateway ended the connection
    socket.on('data', (chunk: string) => (received += chunk));
    /** The answers so far, each complete one with its status and head. */
    const parsed = (): { status: string; head: string }[] | undefined => {
      const out: { status: string; head: string }[] = [];
      for (let rest = received; rest.length > 0; ) {
        const end = rest.indexOf('\r\n\r\n');
        if (end === -1) return undefined;
        const head = rest.slice(0, end);
        let next: number;
        if (/\r\ntransfer-encoding: chunked/i.test(head)) {
          const last = rest.indexOf('\r\n0\r\n\r\n', end);
          if (last === -1) return undefined;
          next = last + 7;
        } else {
          next = end + 4 + Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (rest.length < next) return undefined;
        }
        out.push({ status: head.slice(9, 12), head });
        rest = rest.slice(next);
      }
      return out;
    };
    const answers = (n: number) =>
      new Promise<{ status: string; head: string }[]>((resolve, reject) => {
        const check = () => {
          const got = parsed();
          if (got && got.length >= n) {
            socket.off('data', check);
            socket.off('close', onClose);
            resolve(got);
          }
        };
        const onClose = () => {
          check();
          reject(new Error(`connection closed after: ${received.slice(0, 300)}`));
        };
        socket.on('data', check);
        socket.once('close', onClose);
        check();
      });
    /** Writes, waiting while the socket's buffer is full; false once the connection has ended. */
    const send = async (data: string | Buffer): Promise<boolean> => {
      if (closed) return false;
      if (!socket.write(data)) await Promise.race([new Promise((r) => socket.once('drain', r)), ended]);
      return !closed;
    };
    await new Promise<void>((r) => socket.once('connect', r));
    return { socket, answers, send, ended, isClosed: () => closed };
  }

  it("keeps a connection usable after the upstream answered before reading the client's whole body", async () => {
    // The headers and a first part of the body, then the answer, then the rest of the body and
    // a second request on the same connection. The gateway must read what is left of the first
    // body (and throw it away), or the second request sits behind it unread until the
    // connection is reset.
    const bodyBytes = 400 * 1024;
    const c = await rawClient();
    try {
      const first = c.answers(1);
      await c.send(
        `POST /v2/docs/upload HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nX-Drill: refuse-unread\r\n` +
          `Content-Type: application/octet-stream\r\nContent-Length: ${bodyBytes}\r\n\r\n`,
      );
      await c.send(Buffer.alloc(16 * 1024, 0x61));
      expect((await first).map((a) => a.status)).toEqual(['413']);
      const second = c.answers(2);
      await c.send(Buffer.alloc(bodyBytes - 16 * 1024, 0x61));
      await c.send(`GET /v2/docs/templates HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      expect((await second).map((a) => a.status)).toEqual(['413', '200']);
    } finally {
      // Also when an expectation fails: an open socket would keep the gateway from closing.
      c.socket.destroy();
    }
  });

  it('ends the connection after refusing a body declared over the cap, without reading it', async () => {
    const forwarded = seen['ok'] ?? 0;
    const c = await rawClient();
    try {
      const first = c.answers(1);
      await c.send(
        `POST /v2/docs/constructor HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024 * 1024}\r\n\r\n`,
      );
      await c.send(Buffer.alloc(16 * 1024, 0x61));
      const [answer] = await first;
      expect(answer!.status).toBe('413');
      expect(answer!.head).toMatch(/\r\nconnection: close/i);
      // The gateway ends it: nothing more is sent from here.
      await c.ended;
      expect(seen['ok'] ?? 0).toBe(forwarded);
    } finally {
      c.socket.destroy();
    }
  });

  it('ends the connection once a body the upstream refused unread goes past the route cap', async () => {
    // Chunked, so its size is unknown until it ends, and this one never does: past what the
    // gateway still reads and drops (16 MiB beyond BODY_LIMIT_BYTES, 1 MiB), it ends the connection.
    const c = await rawClient();
    try {
      const first = c.answers(1);
      await c.send(
        `POST /v2/docs/constructor HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nX-Drill: refuse-unread\r\n` +
          `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      const chunk = Buffer.concat([Buffer.from(`${(64 * 1024).toString(16)}\r\n`), Buffer.alloc(64 * 1024, 0x61), Buffer.from('\r\n')]);
      await c.send(chunk);
      expect((await first).map((a) => a.status)).toEqual(['413']);
      let sent = 0;
      const most = 64 * 1024 * 1024;
      while (sent < most && (await c.send(chunk))) sent += 64 * 1024;
      expect(c.isClosed()).toBe(true);
      expect(sent).toBeLessThan(most);
    } finally {
      c.socket.destroy();
    }
  });

  it("refuses a path with '#' or '\\' (a service would route it elsewhere) with 400, before it reaches the service", async () => {
    const before = seen['ambiguous'] ?? 0;
    for (const target of ['/v2/docs/interactions/0b7c5a5e-0000-4000-8000-000000000001#/payments/x', '/v2/docs/templates\\x']) {
      const client = await rawClient();
      await client.send(`DELETE ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Drill: ambiguous\r\nContent-Length: 0\r\n\r\n`);
      const [answer] = await client.answers(1);
      expect(answer!.status).toBe('400');
      expect(answer!.head).toMatch(/content-type: application\/json/i);
      client.socket.destroy();
    }
    expect(seen['ambiguous'] ?? 0).toBe(before);
  });

  it('still proxies a healthy answer', async () => {
    expect(await call('GET', '/v2/docs/templates')).toMatchObject({ status: 200, body: { ok: true } });
  });
});

describe('gateway: signing keys that cannot be fetched (AUTH_JWKS_URL down)', () => {
  let gateway: INestApplication;

  beforeAll(async () => {
    gateway = await startGateway({ AUTH_JWT_SECRET: '', AUTH_JWKS_URL: `http://127.0.0.1:${await freePort()}/.well-known/jwks.json` });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('answers 503 AUTH_UNAVAILABLE with Retry-After, not 401: the token is not at fault', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ acc: 'acme-1' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('1h').sign(privateKey);
    const res = await request(`${baseUrl(gateway)}/v2/contractors`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(await res.body.json()).toMatchObject({ status: 'ERROR', code: 'AUTH_UNAVAILABLE' });
  });
});
