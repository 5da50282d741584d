import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { OutcomeUnknown, RateLimited, Rejected, Unavailable } from './errors';
import { HttpClient } from './http-client';

const SECRET = 'secret-token-value';
const TIMEOUT_MS = 300;

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on 127.0.0.1; each request is recorded with its whole body before `reply` runs. */
async function httpServer(reply: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const requests: Recorded[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      reply(req, res, body);
    });
  });
  return { ...(await listen(server)), requests };
}

/** A raw TCP server, for what an HTTP server would not do (close without answering). */
function tcpServer(onConnection: (socket: Socket) => void, opts: { pauseOnConnect?: boolean } = {}) {
  return listen(createTcpServer(opts, onConnection));
}

async function listen(server: Server) {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** Runs `fn` against a client of `url`, then closes both. */
async function withClient<T>(server: { url: string; close(): Promise<void> }, fn: (sut: HttpClient) => Promise<T>, opts: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
  const sut = new HttpClient({ baseUrl: `${server.url}/api/`, headers: { authorization: `Bearer ${SECRET}` }, timeoutMs: TIMEOUT_MS, ...opts });
  try {
    return await fn(sut);
  } finally {
    await sut.close().catch(() => undefined);
    await server.close();
  }
}

const failure = (p: Promise<unknown>) => p.then(
  () => {
    throw new Error('expected the call to fail');
  },
  (err: unknown) => err as Error,
);

describe(HttpClient.name, () => {
  it('sends JSON with the base URL, default headers and query, and returns the parsed answer', async () => {
    const server = await httpServer((_req, res, body) => json(res, 201, { id: 7, echo: JSON.parse(body) }));
    const answer = await withClient(server, (sut) =>
      sut.json<{ id: number; echo: unknown }>('post', '/entity/counterparty', { json: { name: 'ООО Ромашка' }, query: { expand: 'owner', tag: ['a', 'b'], skip: undefined } }),
    );
    expect(answer).toEqual({ id: 7, echo: { name: 'ООО Ромашка' } });
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      url: '/api/entity/counterparty?expand=owner&tag=a&tag=b',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json', accept: 'application/json' },
    });
  });

  it('sends a form body as application/x-www-form-urlencoded', async () => {
    const server = await httpServer((_req, res) => json(res, 200, { success: true }));
    await withClient(server, (sut) => sut.json('POST', 'transaction', { form: { amount: '1500.50', description: 'Оплата [papka:42]', skip: null } }));
    expect(server.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(server.requests[0]!.body))).toEqual({ amount: '1500.50', description: 'Оплата [papka:42]' });
  });

  it('lets a per-call header replace a default one whatever its case', async () => {
    const server = await httpServer((_req, res) => json(res, 200, {}));
    await withClient(server, (sut) => sut.request('GET', 'x', { headers: { Authorization: 'Token other' } }));
    expect(server.requests[0]!.headers.authorization).toBe('Token other');
  });

  it('turns a 429 into RateLimited with Retry-After in seconds', async () => {
    const server = await httpServer((_req, res) => json(res, 429, { message: 'slow down' }, { 'retry-after': '120' }));
    const err = await withClient(server, (sut) => failure(sut.json('POST', 'x', { json: {} })));
    expect(err).toBeInstanceOf(RateLimited);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 120_000, body: { message: 'slow down' }, requestSent: true });
  });

  it('turns a 429 into RateLimited with Retry-After as an HTTP date', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 30_000);
    const server = await httpServer((_req, res) => json(res, 429, {}, { 'retry-after': at.toUTCString() }));
    const err = (await withClient(server, (sut) => failure(sut.json('GET', 'x')))) as RateLimited;
    expect(err).toBeInstanceOf(RateLimited);
    expect(err.retryAfterMs).toBeGreaterThan(25_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(31_000);
  });

  it('keeps the body of a 4xx in Rejected, and no header or query value in the message', async () => {
    const server = await httpServer((_req, res) => json(res, 422, { errors: [{ code: 3000, error: 'name is required' }] }));
    const err = await withClient(server, (sut) => failure(sut.json('POST', 'entity', { json: {}, query: { api_token: SECRET } })));
    expect(err).toBeInstanceOf(Rejected);
    expect(err).toMatchObject({ status: 422, body: { errors: [{ code: 3000, error: 'name is required' }] } });
    expect(err.message).toBe(`POST ${server.url}/api/entity: answered HTTP 422`);
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(SECRET);
  });

  it('reports a 503 as Unavailable whatever the method, with its Retry-After', async () => {
    const server = await httpServer((_req, res) => json(res, 503, {}, { 'retry-after': '5' }));
    const err = await withClient(server, (sut) => failure(sut.json('POST', 'x', { json: {} })));
    expect(err).toBeInstanceOf(Unavailable);
    expect(err).toMatchObject({ status: 503, retryAfterMs: 5000 });
  });

  it.each([
    [502, 'GET', Unavailable],
    [504, 'GET', Unavailable],
    [500, 'GET', Rejected],
    [502, 'POST', OutcomeUnknown],
    [504, 'PATCH', OutcomeUnknown],
    [500, 'POST', OutcomeUnknown],
  ] as const)('reports HTTP %i to a %s as %p', async (status, method, type) => {
    const server = await httpServer((_req, res) => json(res, status, { error: 'boom' }));
    const err = await withClient(server, (sut) => failure(sut.json(method, 'x')));
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ status });
  });

  it('treats a POST marked idempotent like a GET', async () => {
    const server = await httpServer((_req, res) => json(res, 502, {}));
    const err = await withClient(server, (sut) => failure(sut.json('POST', 'findById/party', { json: {}, idempotent: true })));
    expect(err).toBeInstanceOf(Unavailable);
  });

  it('reports a success whose body is not JSON as Rejected for a GET and OutcomeUnknown for a POST', async () => {
    const server = await httpServer((_req, res) => res.end('<html>proxy login</html>'));
    const [get, post] = await withClient(server, async (sut) => [await failure(sut.json('GET', 'x')), await failure(sut.json('POST', 'x'))]);
    expect(get).toBeInstanceOf(Rejected);
    expect(get).toMatchObject({ status: 200, body: '<html>proxy login</html>' });
    expect(post).toBeInstanceOf(OutcomeUnknown);
  });

  it('inflates a gzip answer, but no further than maxResponseBytes: a small body that inflates past it is too large, as a plain one would be', async () => {
    const gzipped = (body: unknown) => (res: ServerResponse, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify(body)));
    };
    const small = { rows: ['a'] };
    // ~4 MiB of JSON in ~4 KiB of gzip.
    const bomb = { filler: 'x'.repeat(4 * 1024 * 1024) };
    const server = await httpServer((req, res) => {
      if (req.url?.endsWith('/small')) return gzipped(small)(res);
      if (req.url?.endsWith('/bomb-error')) return gzipped(bomb)(res, 500);
      return gzipped(bomb)(res);
    });
    const [ok, get, post, error] = await withClient(
      server,
      async (sut) => [await sut.json('GET', 'small'), await failure(sut.json('GET', 'bomb')), await failure(sut.json('POST', 'bomb')), await failure(sut.json('GET', 'bomb-error'))],
      { maxResponseBytes: 1024 * 1024 },
    );
    expect(ok).toEqual(small);
    expect(get).toBeInstanceOf(Rejected);
    expect(get.message).toContain('more than 1048576 bytes');
    expect(post).toBeInstanceOf(OutcomeUnknown);
    // An error answer keeps its status and kind; its body, past the bound, is left out.
    expect(error).toBeInstanceOf(Rejected);
    expect(error).toMatchObject({ status: 500, body: undefined });
  });

  it('keeps the status of an answer that says gzip but is not: a 429 is still rate limited, a 200 unreadable', async () => {
    const server = await httpServer((req, res) => {
      const status = req.url?.endsWith('/limited') ? 429 : 200;
      res.writeHead(status, { 'content-type': 'application/json', 'content-encoding': 'gzip', ...(status === 429 ? { 'retry-after': '7' } : {}) });
      res.end('plain text, not gzip');
    });
    const [limited, get, post] = await withClient(server, async (sut) => [
      await failure(sut.json('GET', 'limited')),
      await failure(sut.json('GET', 'ok')),
      await failure(sut.json('POST', 'ok')),
    ]);
    expect(limited).toBeInstanceOf(RateLimited);
    expect(limited).toMatchObject({ status: 429, retryAfterMs: 7_000 });
    expect(get).toBeInstanceOf(Rejected);
    expect(get).toMatchObject({ status: 200, message: expect.stringContaining('not the gzip') });
    expect(post).toBeInstanceOf(OutcomeUnknown);
  });

  it('reports a refused connection as Unavailable, never sent', async () => {
    const server = await httpServer(() => undefined);
    await server.close(); // the port is now closed
    const sut = new HttpClient({ baseUrl: server.url, timeoutMs: TIMEOUT_MS });
    const err = await failure(sut.json('POST', 'x', { json: {} }));
    await sut.close();
    expect(err).toBeInstanceOf(Unavailable);
    expect(err).toMatchObject({ requestSent: false, status: undefined });
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('reports a call still waiting for a socket when the time is up as Unavailable, never sent', async () => {
    const server = await httpServer(() => undefined); // holds the one socket
    const [first, second] = await withClient(
      server,
      // The first holds its socket past the second's deadline.
      (sut) => Promise.all([failure(sut.json('POST', 'first', { json: {}, timeoutMs: 2 * TIMEOUT_MS })), failure(sut.json('POST', 'second', { json: {} }))]),
      { connections: 1 },
    );
    expect(first).toBeInstanceOf(OutcomeUnknown);
    expect(second).toBeInstanceOf(Unavailable);
    expect(second).toMatchObject({ requestSent: false });
    expect(server.requests.map((r) => r.url)).toEqual(['/api/first']);
  });

  it('reports a server that never answers as OutcomeUnknown for a POST, at the timeout', async () => {
    const server = await httpServer(() => undefined);
    const err = await withClient(server, (sut) => failure(sut.json('POST', 'x', { json: { amount: 1 } })));
    // The client's own limit ended it (its reason names it), not a socket or undici limit;
    // Jest's timeout is what catches a call that would hang.
    expect(err).toBeInstanceOf(OutcomeUnknown);
    expect(err).toMatchObject({ requestSent: true, reason: `timed out after ${TIMEOUT_MS} ms after the request was sent` });
    expect(server.requests.map((r) => r.body)).toEqual(['{"amount":1}']);
  });

  it('gives a call its own timeout when it is longer than the client\'s', async () => {
    const server = await httpServer((_req, res) => setTimeout(() => json(res, 200, { ok: true }), 5 * TIMEOUT_MS));
    const answer = await withClient(server, (sut) => sut.json('POST', 'slow-export', { json: {}, timeoutMs: 10 * TIMEOUT_MS }));
    expect(answer).toEqual({ ok: true });
  });

  it('reports a server that never answers a GET as Unavailable (a repeat does no harm)', async () => {
    const server = await httpServer(() => undefined);
    const err = await withClient(server, (sut) => failure(sut.json('GET', 'x')));
    expect(err).toBeInstanceOf(Unavailable);
    expect(err).toMatchObject({ requestSent: true });
  });

  it('reports a server that reads the whole body and then drops the connection as OutcomeUnknown', async () => {
    const server = await httpServer((req) => req.socket.destroy());
    const err = await withClient(server, (sut) => failure(sut.json('POST', 'x', { json: { amount: 1 } })));
    expect(err).toBeInstanceOf(OutcomeUnknown);
    expect(server.requests[0]!.body).toBe('{"amount":1}');
  });

  it('reports a server that drops the connection without reading as OutcomeUnknown: the client cannot tell it from a crash after applying', async () => {
    const server = await tcpServer((socket) => setTimeout(() => socket.resetAndDestroy(), 20), { pauseOnConnect: true });
    const err = await withClient(server, (sut) => failure(sut.json('POST', 'x', { json: { amount: 1 } })));
    expect(err).toBeInstanceOf(OutcomeUnknown);
    expect(err).toMatchObject({ requestSent: true });
  });

  it('counts a slow body against the same timeout, even while bytes keep arriving', async () => {
    // Bytes come every TIMEOUT_MS / 6, for ever: an idle timeout would never fire and the call
    // would hang (Jest's timeout fails it); only the call's whole-time limit ends it.
    const server = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write('1,')), TIMEOUT_MS / 6);
      res.on('close', () => clearInterval(drip));
    });
    const err = await withClient(server, (sut) => failure(sut.json('POST', 'x', { json: {} })));
    expect(err).toBeInstanceOf(OutcomeUnknown);
    expect(err).toMatchObject({ requestSent: true, reason: `timed out after ${TIMEOUT_MS} ms after the request was sent` });
  });

  it('throws the caller’s own abort reason as it is', async () => {
    const server = await httpServer(() => undefined);
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 20);
    const err = await withClient(server, (sut) => failure(sut.json('GET', 'x', { signal: controller.signal })));
    expect(err).toBe(reason);
  });

  it('refuses calls once closed', async () => {
    const server = await httpServer((_req, res) => json(res, 200, {}));
    const err = await withClient(server, async (sut) => {
      await sut.close();
      return failure(sut.json('GET', 'x'));
    });
    expect(err).not.toBeInstanceOf(Unavailable);
    expect((err as Error & { code?: string }).code).toMatch(/^UND_ERR_(CLOSED|DESTROYED)$/);
  });
});
