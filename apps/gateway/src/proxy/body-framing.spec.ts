import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Logger } from '@nestjs/common';
import { request } from 'undici';
import type { TokenVerifier } from '@papka/auth';
import { gatewayEnvSchema } from '../config';
import { createProxyHandler } from './proxy.handler';

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

/** How a request body is framed and capped on its way to a service. */
describe('request body framing and caps', () => {
  let upstream: Server;
  let gateway: Server;
  let url: string;
  /** Requests the services received: path and body size. */
  const seen: { url: string; bytes: number }[] = [];
  const auth = { authorization: 'Bearer good' };
  const UPLOAD_LIMIT = 1024 * 1024;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    upstream = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ url: req.url!, bytes });
        res.setHeader('content-type', 'application/json').end('{"status":"OK"}');
      });
    });
    const service = await listen(upstream);
    const config = gatewayEnvSchema.parse({ NODE_ENV: 'test', CONTRACTORS_URL: service, DOCUMENTS_URL: service, UPLOAD_LIMIT_BYTES: String(UPLOAD_LIMIT) });
    const verifier = { verify: async () => ({ accountId: 'acc-1', userId: 'u-1' }) } as unknown as TokenVerifier;
    const handler = createProxyHandler(config, verifier);
    gateway = createServer((req, res) => handler.handle(req, res));
    url = await listen(gateway);
  });

  afterAll(async () => {
    gateway.closeAllConnections();
    await new Promise((r) => gateway.close(r));
    await new Promise((r) => upstream.close(r));
  });

  /** A multipart body carrying one `file` of `size` bytes. */
  const multipart = (size: number) => {
    const boundary = 'papka-test-boundary';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    return { body: Buffer.concat([head, Buffer.alloc(size, 0x61), tail]), type: `multipart/form-data; boundary=${boundary}` };
  };

  it('passes on an upload whose file is exactly UPLOAD_LIMIT_BYTES (documents caps the file, and allows 64 KiB of framing around it)', async () => {
    const { body, type } = multipart(UPLOAD_LIMIT);
    const res = await request(`${url}/v2/docs/upload`, { method: 'POST', headers: { ...auth, 'content-type': type }, body });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(seen.at(-1)).toEqual({ url: '/v2/docs/upload', bytes: body.length });
  });

  it('still refuses with 413 an upload beyond documents\' cap (the file limit and 64 KiB), declared or streamed, without passing it on', async () => {
    const before = seen.length;
    const over = Buffer.alloc(UPLOAD_LIMIT + 64 * 1024 + 1, 0x61);
    const declared = await request(`${url}/v2/docs/upload`, { method: 'POST', headers: { ...auth, 'content-type': 'application/pdf' }, body: over });
    expect(declared.statusCode).toBe(413);
    expect(await declared.body.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    // Chunked (undici streams a body of no known length).
    const streamed = await request(`${url}/v2/docs/upload`, { method: 'POST', headers: { ...auth, 'content-type': 'application/pdf' }, body: Readable.from([over]) });
    expect(streamed.statusCode).toBe(413);
    await streamed.body.text();
    expect(seen.length).toBe(before);
  });

  it('answers 501 to a transfer coding other than chunked (RFC 9112 §6.1), and does not pass the still-coded body on', async () => {
    const before = seen.length;
    const socket = connect((gateway.address() as AddressInfo).port, '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        // One whole answer: the headers and the Content-Length body after them.
        const end = text.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: (\d+)/i.exec(text);
        if (end !== -1 && length && text.length >= end + 4 + Number(length[1])) resolve(text);
      });
      socket.on('close', () => resolve(text));
    });
    socket.write(
      'POST /v2/docs/contractors HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer good\r\nContent-Type: application/json\r\n' +
        'Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    const text = await answer;
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 501 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 'ERROR', code: 'NOT_IMPLEMENTED' });
    expect(seen.length).toBe(before);
  });

  it('still streams a chunked body', async () => {
    const res = await request(`${url}/v2/docs/contractors`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: Readable.from([Buffer.from('{"name":'), Buffer.from('"x"}')]),
    });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(seen.at(-1)).toEqual({ url: '/v2/docs/contractors', bytes: 12 });
  });
});
