import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Rejected } from './errors';
import { HttpClient } from './http-client';
import { assertSafeBaseUrl, blockedAddressKind, hostPortOf, UnsafeUrlError, type LookupAllFn } from './url-guard';

const resolvesTo =
  (...addresses: string[]): LookupAllFn =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

async function refusal(p: Promise<unknown>): Promise<UnsafeUrlError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof UnsafeUrlError)) throw new Error(`expected an UnsafeUrlError, got ${String(err)}`);
  return err;
}

/** A real HTTP server on 127.0.0.1 that counts TCP connections, whatever comes over them. */
async function listener(reply: (url: string) => { status: number; headers?: Record<string, string>; body?: string } = () => ({ status: 200, body: '{"ok":true}' })) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((req, res) => {
    const r = reply(req.url ?? '');
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(r.body ?? '');
  });
  server.on('connection', (s: Socket) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('blockedAddressKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    // IPv6 forms that reach an IPv4 address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['[::1]', 'loopback'],
    ['localhost', 'not an IP address'],
  ])('%s is refused as %s', (address, kind) => {
    expect(blockedAddressKind(address)).toBe(kind);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2606:4700:4700::1111', '2a00:1450:4010:c05::64'])('%s is public', (address) => {
    expect(blockedAddressKind(address)).toBeUndefined();
  });
});

describe('assertSafeBaseUrl', () => {
  const open = { allowedHosts: [] as string[], lookupAll: resolvesTo('93.184.216.34') };

  it('accepts https to a public name and answers the parsed URL', async () => {
    const url = await assertSafeBaseUrl('https://dms.example.com/api/', open);
    expect(url.href).toBe('https://dms.example.com/api/');
  });

  it.each([
    ['http://dms.example.com', 'protocol'],
    ['ftp://dms.example.com', 'protocol'],
    ['file:///etc/passwd', 'protocol'],
    ['https://user:pass@dms.example.com', 'credentials'],
    ['not a url', 'invalid'],
    ['https://127.0.0.1:8443', 'address'],
    ['https://169.254.169.254/latest/meta-data', 'address'],
    ['https://10.0.0.5', 'address'],
    ['https://[::1]/', 'address'],
    ['https://[fd00:ec2::254]/', 'address'],
    ['https://[::ffff:127.0.0.1]/', 'address'],
    // the URL parser's IPv4 forms: 0x7f.1 and 2130706433 are 127.0.0.1
    ['https://0x7f.1/', 'address'],
    ['https://2130706433/', 'address'],
  ])('refuses %s (%s)', async (input, reason) => {
    expect((await refusal(assertSafeBaseUrl(input, open))).reason).toBe(reason);
  });

  it('refuses a name that resolves to loopback, through the real resolver', async () => {
    const err = await refusal(assertSafeBaseUrl('https://localhost:8443', { allowedHosts: [] }));
    expect(err.reason).toBe('address');
    expect(err.message).toMatch(/^localhost resolves to .+, a loopback address$/);
  });

  it('refuses a name with one private address among public ones', async () => {
    const err = await refusal(assertSafeBaseUrl('https://dms.example.com', { allowedHosts: [], lookupAll: resolvesTo('93.184.216.34', '192.168.0.10') }));
    expect(err.message).toBe('dms.example.com resolves to 192.168.0.10, a private address');
  });

  it('refuses a name that does not resolve', async () => {
    const lookupAll: LookupAllFn = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    expect((await refusal(assertSafeBaseUrl('https://nowhere.example', { allowedHosts: [], lookupAll }))).reason).toBe('unresolvable');
  });

  it('lets an allowlisted host:port through over http and to loopback, and only that port', async () => {
    const allowedHosts = ['127.0.0.1:8080', 'localhost:9000', '[::1]:8081'];
    await expect(assertSafeBaseUrl('http://127.0.0.1:8080/dms', { allowedHosts })).resolves.toBeInstanceOf(URL);
    await expect(assertSafeBaseUrl('http://LOCALHOST:9000', { allowedHosts })).resolves.toBeInstanceOf(URL);
    await expect(assertSafeBaseUrl('http://[::1]:8081', { allowedHosts })).resolves.toBeInstanceOf(URL);
    expect((await refusal(assertSafeBaseUrl('http://127.0.0.1:8081', { allowedHosts }))).reason).toBe('protocol');
    expect((await refusal(assertSafeBaseUrl('https://127.0.0.1:8081', { allowedHosts }))).reason).toBe('address');
  });

  it('spells host:port with the default port made explicit', () => {
    expect(hostPortOf(new URL('https://Dms.Example.com/x'))).toBe('dms.example.com:443');
    expect(hostPortOf(new URL('http://127.0.0.1/x'))).toBe('127.0.0.1:80');
    expect(hostPortOf(new URL('http://[::1]:81/'))).toBe('[::1]:81');
  });
});

describe('HttpClient with urlGuard', () => {
  it('does not open a socket to a loopback address that is not allowlisted', async () => {
    const server = await listener();
    const client = new HttpClient({ baseUrl: `https://127.0.0.1:${server.port}`, urlGuard: { allowedHosts: [] }, timeoutMs: 2_000 });
    try {
      const err = await refusal(client.json('GET', '/x'));
      expect(err.reason).toBe('address');
      expect(server.connections).toBe(0);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('refuses plain http that is not allowlisted at connect time as well', async () => {
    const server = await listener();
    const client = new HttpClient({ baseUrl: `http://127.0.0.1:${server.port}`, urlGuard: { allowedHosts: [] }, timeoutMs: 2_000 });
    try {
      expect((await refusal(client.json('POST', '/x', { json: {} }))).reason).toBe('protocol');
      expect(server.connections).toBe(0);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('checks the address the socket opens to: a name that re-resolves to loopback (DNS rebinding) gets no connection', async () => {
    const server = await listener();
    let calls = 0;
    const lookupAll: LookupAllFn = async () => {
      calls += 1;
      return calls === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    };
    const guard = { allowedHosts: [], lookupAll };
    const url = await assertSafeBaseUrl(`https://rebind.example:${server.port}`, guard);
    const client = new HttpClient({ baseUrl: url.href, urlGuard: guard, timeoutMs: 2_000 });
    try {
      const err = await refusal(client.json('GET', '/x'));
      expect(err.message).toBe('rebind.example resolves to 127.0.0.1, a loopback address');
      expect(server.connections).toBe(0);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('talks to an allowlisted host:port, and refuses its redirect instead of following it', async () => {
    const server = await listener((url) => (url === '/moved' ? { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } } : { status: 200, body: '{"ok":true}' }));
    const client = new HttpClient({ baseUrl: `http://127.0.0.1:${server.port}`, urlGuard: { allowedHosts: [`127.0.0.1:${server.port}`] }, timeoutMs: 2_000 });
    try {
      await expect(client.json('GET', '/fine')).resolves.toEqual({ ok: true });
      const err = await client.json('GET', '/moved').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Rejected);
      expect((err as Rejected).status).toBe(302);
      expect((err as Rejected).reason).toBe('answered HTTP 302 (a redirect, not followed)');
    } finally {
      await client.close();
      await server.close();
    }
  });
});
