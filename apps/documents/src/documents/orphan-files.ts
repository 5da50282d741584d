import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { Buckets } from '@papka/platform';
import { OBJECT_STORAGE, type ObjectStorage } from '@papka/storage';
import { CONFIG, type DocumentsConfig } from '../config';

/**
 * The keys this service writes, and nothing else: a bucket shared with something else never
 * loses that something's objects. Rendered files `<account>/<document id>/<10 hex>.<ext>` (and
 * `<account>/<10 hex>.<ext>` from before the document id was in the key); uploads
 * `<account>/<10 hex>.<ext>`.
 */
const OURS: Record<string, RegExp> = {
  [Buckets.documents]: /^[^/]+\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/)?[0-9a-f]{10}\.[a-z0-9]{1,8}$/,
  [Buckets.uploads]: /^[^/]+\/[0-9a-f]{10}\.[a-z0-9]{1,8}$/,
};
/** The table whose `storage_key` refers to each bucket's objects. */
const REFERRER: Record<string, string> = { [Buckets.documents]: 'document', [Buckets.uploads]: 'upload' };
const BATCH = 500;

export interface SweepResult {
  bucket: string;
  listed: number;
  removed: number;
}

/**
 * Removes files no row refers to. They are left when a step after the put fails and undoing it
 * was not safe: the render's outcome write failed (it may have committed, so the file could not be
 * removed then; the render runs again under a new key), the process died between the put and the
 * commit, a delete's removal after its commit met a storage outage, or an upload's insert failed
 * with storage down. Only objects older than `FILE_SWEEP_GRACE_MS` are candidates, so a render or
 * upload still between its put and its commit keeps its file. Each replica sweeps every
 * `FILE_SWEEP_MS` (the first time after a random part of it); two sweeping at once only remove
 * the same objects twice, which is harmless.
 */
@Injectable()
export class OrphanFiles implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OrphanFiles.name);
  private readonly removedTotal?: Counter<'bucket'>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private closing = false;

  constructor(
    @Inject(CONFIG) private readonly config: DocumentsConfig,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
    private readonly ds: DataSource,
    @Optional() registry?: Registry,
  ) {
    if (registry) {
      this.removedTotal = new Counter({
        name: 'papka_documents_orphan_files_removed_total',
        help: 'Stored files no document or upload referred to, removed by the sweep (FILE_SWEEP_MS)',
        labelNames: ['bucket'],
        registers: [registry],
      });
    }
  }

  onApplicationBootstrap(): void {
    const every = this.config.FILE_SWEEP_MS;
    if (every === 0) return;
    const schedule = (delay: number) => {
      this.timer = setTimeout(() => {
        this.running = this.sweep()
          .catch((err: Error) => this.logger.warn(`file sweep stopped: ${err.message}; next one in ${every} ms`))
          .finally(() => {
            this.running = undefined;
            if (!this.closing) schedule(every);
          });
      }, delay);
      this.timer.unref();
    };
    // Replicas started together do not all sweep at the same moment.
    schedule(Math.floor(Math.random() * every));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over both buckets. */
  async sweep(now = Date.now()): Promise<SweepResult[]> {
    const results: SweepResult[] = [];
    for (const bucket of [Buckets.documents, Buckets.uploads]) results.push(await this.sweepBucket(bucket, now - this.config.FILE_SWEEP_GRACE_MS));
    const removed = results.reduce((n, r) => n + r.removed, 0);
    if (removed > 0) this.logger.log(`file sweep removed ${results.map((r) => `${r.removed} of ${r.listed} in ${r.bucket}`).join(', ')}`);
    return results;
  }

  private async sweepBucket(bucket: string, olderThan: number): Promise<SweepResult> {
    const result = { bucket, listed: 0, removed: 0 };
    let batch: string[] = [];
    const flush = async () => {
      const keys = batch;
      batch = [];
      const rows: { key: string }[] = await this.ds.query(
        `SELECT k AS key FROM unnest($1::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM ${REFERRER[bucket]} r WHERE r.storage_key = k)`,
        [keys],
      );
      for (const { key } of rows) {
        if (this.closing) return;
        await this.storage.remove(bucket, key);
        result.removed++;
        this.removedTotal?.inc({ bucket });
      }
    };
    for await (const object of this.storage.list(bucket)) {
      if (this.closing) break;
      result.listed++;
      if (object.lastModified.getTime() >= olderThan || !OURS[bucket]!.test(object.key)) continue;
      batch.push(object.key);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length > 0 && !this.closing) await flush();
    return result;
  }
}
