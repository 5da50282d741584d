import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { Buckets } from '@papka/platform';
import { createDataSource, runMigrations } from '@papka/persistence';
import { MinioStorage } from '@papka/storage';
import { createTestDatabase, dropDatabase, infraEnv } from '@papka/testing';
import { entities } from '../src/app.module';
import type { DocumentsConfig } from '../src/config';
import { OrphanFiles } from '../src/documents/orphan-files';
import { migrations } from '../src/migrations';

/**
 * The file sweep on real PostgreSQL and MinIO: files no document or upload row refers to are
 * removed once older than the grace period; referred files, young files and keys this service
 * never writes stay. (The buckets are the shared test MinIO's: files other suites left behind
 * may be removed too, so only this test's own keys are checked.)
 */
describe('documents: the sweep of files no row refers to (PostgreSQL + MinIO)', () => {
  const env = infraEnv();
  const storage = new MinioStorage({ endpoint: env.S3_ENDPOINT, accessKey: env.S3_ACCESS_KEY, secretKey: env.S3_SECRET_KEY });
  const account = `acc-${randomUUID().slice(0, 8)}`;
  const hex = () => randomUUID().replace(/-/g, '').slice(0, 10);
  let dbUrl: string;
  let ds: DataSource;

  beforeAll(async () => {
    dbUrl = await createTestDatabase('orphan_files');
    ds = createDataSource({ url: dbUrl, entities, migrations, migrationsTableName: 'documents_migrations' });
    await ds.initialize();
    await runMigrations(ds);
    for (const b of [Buckets.documents, Buckets.uploads]) await storage.ensureBucket(b);
  });

  afterAll(async () => {
    await ds?.destroy();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  const put = (bucket: string, key: string) => storage.put(bucket, key, Buffer.from(`%PDF-1.4 ${key}`), { contentType: 'application/pdf' });
  const exists = async (bucket: string, key: string) => (await storage.stat(bucket, key)) !== null;

  it('removes old files nothing refers to, and keeps referred, young and foreign ones', async () => {
    const referredDoc = randomUUID();
    const keys = {
      referredDocument: `${account}/${referredDoc}/${hex()}.pdf`,
      referredOldLayout: `${account}/${hex()}.pdf`,
      orphanDocument: `${account}/${randomUUID()}/${hex()}.pdf`,
      orphanOldLayout: `${account}/${hex()}.pdf`,
      referredUpload: `${account}/${hex()}.html`,
      orphanUpload: `${account}/${hex()}.docx`,
      foreign: `${account}/backup-${hex()}.tar`,
      young: `${account}/${randomUUID()}/${hex()}.pdf`,
    };
    const document = (id: string, key: string) =>
      ds.query(
        `INSERT INTO document (id, account_id, name, type, status, render_state, masks, filename, content_type, storage_key)
         VALUES ($1, $2, 'Письмо', 'Письмо', 1, 'rendered', '{}', $3, 'application/pdf', $4)`,
        [id, account, key.split('/').pop(), key],
      );
    await document(referredDoc, keys.referredDocument);
    await document(randomUUID(), keys.referredOldLayout);
    // A pending document does not refer to the file its render stored before the outcome failed.
    await ds.query(`INSERT INTO document (id, account_id, name, type, status, render_state, masks) VALUES ($1, $2, 'Счёт', 'Счёт', 1, 'pending', '{}')`, [
      keys.orphanDocument.split('/')[1],
      account,
    ]);
    await ds.query(
      `INSERT INTO upload (id, account_id, filename, original_name, kind, content_type, size, storage_key) VALUES ($1, $2, $3, 'a.html', 'html', 'text/html', 10, $4)`,
      [randomUUID(), account, keys.referredUpload.split('/')[1], keys.referredUpload],
    );
    for (const key of [keys.referredDocument, keys.referredOldLayout, keys.orphanDocument, keys.orphanOldLayout, keys.foreign]) await put(Buckets.documents, key);
    for (const key of [keys.referredUpload, keys.orphanUpload]) await put(Buckets.uploads, key);
    // Older than the grace period by a clear margin, as the sweep sees it (object times are the server's).
    await sleep(2_500);
    await put(Buckets.documents, keys.young);
    const youngAt = (await storage.stat(Buckets.documents, keys.young))!.lastModified.getTime();

    const sweep = new OrphanFiles({ FILE_SWEEP_MS: 0, FILE_SWEEP_GRACE_MS: 1_000 } as DocumentsConfig, storage, ds);
    const results = await sweep.sweep(youngAt + 500);

    expect(await exists(Buckets.documents, keys.orphanDocument)).toBe(false);
    expect(await exists(Buckets.documents, keys.orphanOldLayout)).toBe(false);
    expect(await exists(Buckets.uploads, keys.orphanUpload)).toBe(false);
    expect(await exists(Buckets.documents, keys.referredDocument)).toBe(true);
    expect(await exists(Buckets.documents, keys.referredOldLayout)).toBe(true);
    expect(await exists(Buckets.uploads, keys.referredUpload)).toBe(true);
    expect(await exists(Buckets.documents, keys.young)).toBe(true);
    expect(await exists(Buckets.documents, keys.foreign)).toBe(true);
    expect(results.map((r) => r.bucket)).toEqual([Buckets.documents, Buckets.uploads]);
    expect(results.every((r) => r.removed >= 1)).toBe(true);

    for (const key of [keys.referredDocument, keys.referredOldLayout, keys.foreign, keys.young]) await storage.remove(Buckets.documents, key);
    await storage.remove(Buckets.uploads, keys.referredUpload);
  });
});
