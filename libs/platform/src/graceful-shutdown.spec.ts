import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { drainOnShutdown } from './graceful-shutdown';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('drainOnShutdown', () => {
  let server: Server;
  let url: string;
  let release: () => void = () => undefined;

  beforeEach(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') {
        release = () => res.end('slow done');
        return;
      }
      res.end('ok');
    });
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    server.closeAllConnections();
    server.close();
  });

  it('refuses new connections, answers the request in flight with Connection: close, closes the idle ones, then resolves', async () => {
    const drain = drainOnShutdown(server, { idleCloseMs: 1_000, signals: [] });
    const pool = new Pool(url, { connections: 2 });
    // Two keep-alive connections: one idle, one with a request in flight.
    const [a, b] = await Promise.all([pool.request({ path: '/', method: 'GET' }), pool.request({ path: '/', method: 'GET' })]);
    await Promise.all([a.body.text(), b.body.text()]);
    const slow = pool.request({ path: '/slow', method: 'GET' });
    await wait(50);

    let drained = false;
    void drain.drained().then(() => (drained = true));
    // The idle one was not cut at once: a request on it is still answered, and told to go.
    const onIdle = await pool.request({ path: '/', method: 'GET' });
    expect(onIdle.headers.connection).toBe('close');
    expect(await onIdle.body.text()).toBe('ok');
    // No longer listening: a new connection is refused.
    await expect(pool.request({ path: '/', method: 'GET' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    release();
    const res = await slow;
    expect(res.headers.connection).toBe('close');
    expect(await res.body.text()).toBe('slow done');
    await wait(100);
    expect(drained).toBe(true);
    await pool.close();
  });

  it('closes a connection that stays idle, and cuts what is still open after forceAfterMs', async () => {
    const drain = drainOnShutdown(server, { idleCloseMs: 50, forceAfterMs: 300, signals: [] });
    const pool = new Pool(url, { connections: 2 });
    await (await pool.request({ path: '/', method: 'GET' })).body.text();
    const slow = pool.request({ path: '/slow', method: 'GET' }).then(
      () => 'answered',
      (err: { code?: string }) => err.code,
    );
    await wait(50);
    const started = Date.now();
    await drain.drained();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await slow).toBe('UND_ERR_SOCKET');
    await pool.close();
  });

  it('begins on the signal', async () => {
    const drain = drainOnShutdown(server, { signals: ['SIGUSR2'] });
    expect(server.listening).toBe(true);
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(server.listening).toBe(false);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
    await drain.drained();
  });
});
