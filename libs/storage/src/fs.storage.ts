import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, opendir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertValidKey,
  ObjectNotFoundError,
  type ListedObject,
  type ObjectInfo,
  type ObjectStorage,
  type PutOptions,
  type StoredObject,
} from './object-storage';

/**
 * Object storage on the local filesystem (embedded mode): `<root>/<bucket>/<key>` plus a
 * `<key>.meta.json` sidecar. Writes go to a temp file renamed into place, so a reader never
 * sees half an object.
 */
export class FsStorage implements ObjectStorage {
  readonly kind = 'fs' as const;
  /** Directories made (or found) by this instance: each is made once, not on every put. */
  private readonly dirs = new Set<string>();

  constructor(private readonly root: string) {}

  /** `mkdir -p`, once per directory; `again` makes it even when remembered (it was removed meanwhile). */
  private async dir(dir: string, again = false): Promise<void> {
    if (!again && this.dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    // Bounded: a process that writes under very many directories just makes them again.
    if (this.dirs.size >= 10_000) this.dirs.clear();
    this.dirs.add(dir);
  }

  private file(bucket: string, key: string): string {
    assertValidKey(key);
    assertValidKey(bucket);
    return path.join(this.root, bucket, key);
  }

  async ensureBucket(bucket: string): Promise<void> {
    assertValidKey(bucket);
    await this.dir(path.join(this.root, bucket));
  }

  async put(bucket: string, key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<{ size: number }> {
    const target = this.file(bucket, key);
    const tmp = `${target}.${randomUUID()}.tmp`;
    try {
      await this.dir(path.dirname(target));
      // A buffer is written in one call; a stream is piped. A directory removed since it was
      // made is made again once.
      const write = () => (Buffer.isBuffer(body) ? writeFile(tmp, body) : pipeline(body, createWriteStream(tmp)));
      await write().catch(async (err: { code?: string }) => {
        if (err.code !== 'ENOENT' || !Buffer.isBuffer(body)) throw err;
        await this.dir(path.dirname(target), true);
        await write();
      });
      const size = Buffer.isBuffer(body) ? body.length : (await stat(tmp)).size;
      const meta = { contentType: options.contentType ?? 'application/octet-stream', metadata: options.metadata ?? {} };
      await writeFile(`${target}.meta.json`, JSON.stringify(meta));
      await rename(tmp, target);
      return { size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async stat(bucket: string, key: string): Promise<ObjectInfo | null> {
    const target = this.file(bucket, key);
    try {
      const [s, raw] = await Promise.all([stat(target), readFile(`${target}.meta.json`, 'utf8').catch(() => '{}')]);
      const meta = JSON.parse(raw) as { contentType?: string; metadata?: Record<string, string> };
      return {
        size: s.size,
        contentType: meta.contentType ?? 'application/octet-stream',
        metadata: meta.metadata ?? {},
        lastModified: s.mtime,
      };
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw err;
    }
  }

  async get(bucket: string, key: string): Promise<StoredObject> {
    const info = await this.stat(bucket, key);
    if (!info) throw new ObjectNotFoundError(bucket, key);
    return { ...info, stream: createReadStream(this.file(bucket, key)) };
  }

  async remove(bucket: string, key: string): Promise<void> {
    const target = this.file(bucket, key);
    await Promise.all([rm(target, { force: true }), rm(`${target}.meta.json`, { force: true })]);
    // A key of three or more segments (a document's file, under its id) leaves its directory
    // empty: removed, so deleted documents leave no directory each behind. Not the account's.
    if (key.split('/').length >= 3) {
      const parent = path.dirname(target);
      this.dirs.delete(parent);
      await rmdir(parent).catch(() => undefined); // not empty, or gone: left as it is
    }
  }

  /** Walks `<root>/<bucket>` a directory at a time; sidecars and unfinished writes are not objects. */
  async *list(bucket: string): AsyncIterable<ListedObject> {
    assertValidKey(bucket);
    const base = path.join(this.root, bucket);
    const pending = [base];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      let entries;
      try {
        entries = await opendir(dir);
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') continue; // no bucket yet, or removed meanwhile
        throw err;
      }
      for await (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) pending.push(full);
        else if (entry.isFile() && !entry.name.endsWith('.meta.json') && !entry.name.endsWith('.tmp')) {
          const s = await stat(full).catch(() => null);
          if (s) yield { key: path.relative(base, full).split(path.sep).join('/'), size: s.size, lastModified: s.mtime };
        }
      }
    }
  }

  async ping(_bucket?: string, _timeoutMs?: number): Promise<boolean> {
    return true;
  }
}
