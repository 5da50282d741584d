import { createHash, randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { infra, infraEnv } from '@papka/testing';
import { MinioStorage, ObjectNotFoundError, StorageUnavailableError } from '../src';

/** Yields `size` bytes of pseudo-random data in 64 KiB chunks, never holding it whole. */
function generated(size: number, seed: string): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let left = size;
  let n = 0;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = createHash('sha512').update(`${seed}:${n++}`).digest();
      const block = Buffer.alloc(Math.min(65_536, left));
      for (let i = 0; i < block.length; i += chunk.length) chunk.copy(block, i);
      left -= block.length;
      hash.update(block);
      this.push(block);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe(MinioStorage.name, () => {
  const env = infraEnv();
  const sut = new MinioStorage({ endpoint: env.S3_ENDPOINT, accessKey: env.S3_ACCESS_KEY, secretKey: env.S3_SECRET_KEY });
  const bucket = `test-${randomUUID().slice(0, 8)}`;

  beforeAll(() => sut.ensureBucket(bucket));

  it('streams a 20 MB object of unknown size in and out intact', async () => {
    const src = generated(20 * 1024 * 1024, 'a');
    await expect(sut.put(bucket, 'acc/big.bin', src.stream, { contentType: 'application/pdf' })).resolves.toEqual({
      size: 20 * 1024 * 1024,
    });
    const got = await sut.get(bucket, 'acc/big.bin');
    expect(got.size).toBe(20 * 1024 * 1024);
    expect(got.contentType).toBe('application/pdf');
    expect(await sha256(got.stream)).toBe(src.digest());
  });

  it('keeps metadata with Cyrillic values', async () => {
    await sut.put(bucket, 'acc/meta.txt', Buffer.from('привет'), { contentType: 'text/plain', metadata: { filename: 'Счёт №1.pdf' } });
    const info = await sut.stat(bucket, 'acc/meta.txt');
    expect(info).toMatchObject({ size: Buffer.byteLength('привет'), contentType: 'text/plain', metadata: { filename: 'Счёт №1.pdf' } });
  });

  it('lists every object of a bucket, nested keys included, and nothing for a bucket that does not exist', async () => {
    const own = `test-list-${randomUUID().slice(0, 8)}`;
    await sut.ensureBucket(own);
    for (const key of ['acc/a.pdf', 'acc/doc/b.pdf', 'other/c.html']) await sut.put(own, key, Buffer.from(key));
    const listed = [];
    for await (const o of sut.list(own)) listed.push(o);
    expect(listed.map((o) => o.key).sort()).toEqual(['acc/a.pdf', 'acc/doc/b.pdf', 'other/c.html']);
    const one = listed.find((o) => o.key === 'acc/doc/b.pdf')!;
    expect(one.size).toBe('acc/doc/b.pdf'.length);
    expect(Date.now() - one.lastModified.getTime()).toBeLessThan(3_600_000);
    const none = [];
    for await (const o of sut.list(`test-none-${randomUUID().slice(0, 8)}`)) none.push(o);
    expect(none).toEqual([]);
  });

  it('pings with a HEAD of a bucket: true for one that exists and for one that does not (the storage answered)', async () => {
    await expect(sut.ping(bucket)).resolves.toBe(true);
    await expect(sut.ping(`absent-${bucket}`)).resolves.toBe(true);
    await expect(sut.ping()).resolves.toBe(true);
  });

  it('reports absent objects', async () => {
    await expect(sut.stat(bucket, 'acc/none')).resolves.toBeNull();
    await expect(sut.get(bucket, 'acc/none')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(sut.remove(bucket, 'acc/none')).resolves.toBeUndefined();
  });

  it('rejects keys that could escape their prefix', async () => {
    await expect(sut.put(bucket, '../etc/passwd', Buffer.from('x'))).rejects.toThrow('invalid object key');
  });

  it('fails with StorageUnavailableError, not a hung call, when the storage accepts but never answers', async () => {
    // A black hole: takes connections, says nothing (a wedged server, a half-open network path).
    const sockets: Socket[] = [];
    const hole = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    const stuck = new MinioStorage({
      endpoint: `http://127.0.0.1:${(hole.address() as AddressInfo).port}`,
      accessKey: 'x',
      secretKey: 'y',
      requestTimeoutMs: 300,
    });
    try {
      const started = Date.now();
      await expect(stuck.stat(bucket, 'acc/any.txt')).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(stuck.put(bucket, 'acc/any.txt', Buffer.from('x'))).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(Date.now() - started).toBeLessThan(10_000);
      // The readiness ping answers by its own deadline, not the requests' (here 300 ms, there 30 s by default).
      const slow = new MinioStorage({ endpoint: `http://127.0.0.1:${(hole.address() as AddressInfo).port}`, accessKey: 'x', secretKey: 'y', requestTimeoutMs: 60_000 });
      await expect(slow.ping(bucket, 200)).resolves.toBe(false);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hole.close(resolve));
    }
  });

  it('fails with StorageUnavailableError while MinIO is down, and works again after', async () => {
    await infra('down', 'minio');
    try {
      await expect(sut.put(bucket, 'acc/down.txt', Buffer.from('x'))).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(sut.ping()).resolves.toBe(false);
      await expect(sut.ping(bucket)).resolves.toBe(false);
    } finally {
      await infra('up', 'minio');
    }
    await sut.put(bucket, 'acc/up.txt', Buffer.from('back'));
    expect(await sha256((await sut.get(bucket, 'acc/up.txt')).stream)).toBe(createHash('sha256').update('back').digest('hex'));
  });
});
