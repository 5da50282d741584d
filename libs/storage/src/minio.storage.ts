import http from 'node:http';
import https from 'node:https';
import { Transform, type Readable } from 'node:stream';
import { Client, type ItemBucketMetadata } from 'minio';
import {
  assertValidKey,
  ObjectNotFoundError,
  StorageUnavailableError,
  type ListedObject,
  type ObjectInfo,
  type ObjectStorage,
  type PutOptions,
  type StoredObject,
} from './object-storage';

export interface S3Options {
  /** e.g. http://127.0.0.1:9000 */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region?: string;
  /**
   * How long to wait for a connection and the answer's headers (30 s). A storage that accepts
   * but never answers then fails as unavailable (503) instead of holding requests forever.
   * Once the answer starts, a transfer may idle (a slow client's back-pressure).
   */
  requestTimeoutMs?: number;
}

const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string }; message?: string; name?: string };
  if (e?.code && UNAVAILABLE.has(e.code)) return true;
  if (e?.cause?.code && UNAVAILABLE.has(e.cause.code)) return true;
  return /socket hang up|connect ECONNREFUSED|Server Unavailable|ServiceUnavailable|SlowDown/i.test(`${e?.name} ${e?.message}`);
}

/** http(s).request with the answer-headers timeout of S3Options.requestTimeoutMs. */
function timedTransport(base: typeof http | typeof https, ms: number): Pick<typeof http, 'request'> {
  const request = (options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void): http.ClientRequest => {
    const req = base.request(options, callback);
    req.setTimeout(ms, () => req.destroy(Object.assign(new Error(`object storage did not answer within ${ms} ms`), { code: 'ETIMEDOUT' })));
    req.once('response', () => req.setTimeout(0));
    return req;
  };
  return { request: request as typeof http.request };
}

const isNotFound = (err: unknown) => ['NoSuchKey', 'NotFound', 'NoSuchBucket'].includes((err as { code?: string })?.code ?? '');

/** S3 (MinIO or any S3-compatible server), path-style, through the `minio` client. */
export class MinioStorage implements ObjectStorage {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private readonly knownBuckets = new Set<string>();

  constructor(private readonly o: S3Options) {
    const url = new URL(o.endpoint);
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      useSSL: url.protocol === 'https:',
      accessKey: o.accessKey,
      secretKey: o.secretKey,
      region: o.region ?? 'us-east-1',
      pathStyle: true,
      transport: timedTransport(url.protocol === 'https:' ? https : http, o.requestTimeoutMs ?? 30_000),
    });
  }

  private async call<T>(fn: () => Promise<T>, what: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isUnavailable(err)) throw new StorageUnavailableError(`object storage unavailable (${what})`, { cause: err });
      throw err;
    }
  }

  async ensureBucket(bucket: string): Promise<void> {
    if (this.knownBuckets.has(bucket)) return;
    await this.call(async () => {
      if (!(await this.client.bucketExists(bucket))) {
        await this.client.makeBucket(bucket, this.o.region ?? 'us-east-1').catch((err: { code?: string }) => {
          if (err.code !== 'BucketAlreadyOwnedByYou' && err.code !== 'BucketAlreadyExists') throw err;
        });
      }
    }, `ensure bucket ${bucket}`);
    this.knownBuckets.add(bucket);
  }

  async put(bucket: string, key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<{ size: number }> {
    assertValidKey(key);
    const meta: ItemBucketMetadata = { 'Content-Type': options.contentType ?? 'application/octet-stream' };
    for (const [k, v] of Object.entries(options.metadata ?? {})) meta[`X-Amz-Meta-${k}`] = encodeURIComponent(v);
    let size = 0;
    // Count through a transform: a 'data' listener on `body` would start it flowing before
    // the client reads it, and bytes would be lost.
    const counted = Buffer.isBuffer(body)
      ? body
      : body.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              size += chunk.length;
              cb(null, chunk);
            },
          }),
        );
    if (!Buffer.isBuffer(body)) body.once('error', (err) => (counted as Transform).destroy(err));
    await this.call(() => this.client.putObject(bucket, key, counted, options.size, meta), `put ${bucket}/${key}`);
    return { size: Buffer.isBuffer(body) ? body.length : size };
  }

  async stat(bucket: string, key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const s = await this.call(() => this.client.statObject(bucket, key), `stat ${bucket}/${key}`);
      const metadata: Record<string, string> = {};
      let contentType = 'application/octet-stream';
      for (const [k, v] of Object.entries(s.metaData ?? {})) {
        const lower = k.toLowerCase();
        if (lower === 'content-type') contentType = String(v);
        else if (lower.startsWith('x-amz-meta-')) metadata[lower.slice('x-amz-meta-'.length)] = decodeURIComponent(String(v));
        else if (!['etag', 'last-modified', 'content-length'].includes(lower)) metadata[lower] = decodeURIComponent(String(v));
      }
      return { size: s.size, contentType, metadata, lastModified: s.lastModified };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async get(bucket: string, key: string): Promise<StoredObject> {
    const info = await this.stat(bucket, key);
    if (!info) throw new ObjectNotFoundError(bucket, key);
    try {
      const stream = await this.call(() => this.client.getObject(bucket, key), `get ${bucket}/${key}`);
      return { ...info, stream: stream as Readable };
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(bucket, key);
      throw err;
    }
  }

  async remove(bucket: string, key: string): Promise<void> {
    assertValidKey(key);
    await this.call(() => this.client.removeObject(bucket, key), `remove ${bucket}/${key}`).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  async *list(bucket: string): AsyncIterable<ListedObject> {
    try {
      for await (const item of this.client.listObjectsV2(bucket, '', true) as AsyncIterable<{ name?: string; size: number; lastModified?: Date }>) {
        if (item.name && item.lastModified) yield { key: item.name, size: item.size, lastModified: item.lastModified };
      }
    } catch (err) {
      if (isNotFound(err)) return;
      if (isUnavailable(err)) throw new StorageUnavailableError(`object storage unavailable (list ${bucket})`, { cause: err });
      throw err;
    }
  }

  async ping(bucket?: string, timeoutMs = 2_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const call = (bucket === undefined ? this.client.listBuckets() : this.client.bucketExists(bucket)).then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([call, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}


