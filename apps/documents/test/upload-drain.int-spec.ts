import { Readable } from 'node:stream';
import { Client } from 'undici';
import { createTestDatabase, dropDatabase, freePort, infraEnv, serviceEnv, startService, testToken, type RunningService } from '@papka/testing';

/** A multipart body with one `file` part: `magic` (a PDF header by default), then `size` bytes of padding. */
function multipartPdf(size: number, magic = '%PDF-1.4\n'): { body: Buffer; contentType: string } {
  const boundary = `----papka${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n${magic}`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, Buffer.alloc(size, 0x20), tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

/**
 * An upload refused while its body is still coming (file storage down) must not leave its
 * keep-alive connection stuck behind the unread body: the next request on the same
 * connection is answered, not left hanging.
 */
describe('documents: a rejected upload', () => {
  let db: string;
  let documents: RunningService;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase('upload_drain');
    const { S3_ACCESS_KEY, S3_SECRET_KEY } = infraEnv();
    documents = await startService(
      'documents',
      serviceEnv({
        DATABASE_URL: db,
        CHROMIUM_PATH: infraEnv().CHROMIUM_PATH,
        RENDER_PAGES: '1',
        // File storage "down" without touching the shared MinIO: nothing listens there.
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        S3_ACCESS_KEY,
        S3_SECRET_KEY,
      }),
    );
    token = await testToken('upload-drain');
  });

  afterAll(async () => {
    await documents?.stop();
    if (db) await dropDatabase(db);
  });

  it('answers 503 to a 3 MB upload with storage down, and the same connection then answers the next request', async () => {
    const client = new Client(documents.url, { pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
    let connections = 0;
    client.on('connect', () => connections++);
    try {
      const { body, contentType } = multipartPdf(3 * 1024 * 1024);
      const up = await client.request({
        method: 'POST',
        path: '/v2/docs/upload',
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'content-length': String(body.length) },
        body,
      });
      expect(up.statusCode).toBe(503);
      expect(await up.body.json()).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });

      const started = Date.now();
      const next = await client.request({ method: 'GET', path: '/health/live', signal: AbortSignal.timeout(5_000) });
      expect(next.statusCode).toBe(200);
      await next.body.dump();
      expect(Date.now() - started).toBeLessThan(5_000);
      // Read through, not cut: the one keep-alive connection carried both.
      expect(up.headers.connection).not.toBe('close');
      expect(connections).toBe(1);
    } finally {
      await client.destroy();
    }
  });

  it('does the same for an upload refused by its content, sent chunked', async () => {
    const client = new Client(documents.url, { pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
    let connections = 0;
    client.on('connect', () => connections++);
    try {
      const { body, contentType } = multipartPdf(3 * 1024 * 1024, 'MZ');
      const chunks = Readable.from((function* () {
        for (let i = 0; i < body.length; i += 64 * 1024) yield body.subarray(i, i + 64 * 1024);
      })());
      const up = await client.request({
        method: 'POST',
        path: '/v2/docs/upload',
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
        body: chunks,
      });
      expect(up.statusCode).toBe(415);
      await up.body.dump();

      const next = await client.request({ method: 'GET', path: '/health/live', signal: AbortSignal.timeout(5_000) });
      expect(next.statusCode).toBe(200);
      await next.body.dump();
      expect(connections).toBe(1);
    } finally {
      await client.destroy();
    }
  });
});
