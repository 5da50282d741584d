import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import type { Response as ClientResponse } from 'superagent';
import request from 'supertest';
import yauzl from 'yauzl';
import type { AccountContext } from '@papka/auth';
import { HttpErrorFilter } from '@papka/platform';
import { OBJECT_STORAGE, StorageUnavailableError, type ObjectStorage, type StoredObject } from '@papka/storage';
import { BundleController } from './bundle.controller';
import type { AttachedFile, BundleRepository, DocumentFile } from './bundle.repository';
import { BundleService } from './bundle.service';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;
const ID = '11111111-1111-4111-8111-111111111111';
const DOC = '33333333-3333-4333-8333-333333333333';
/** 150 UTF-16 units end in the middle of the emoji. */
const LONG = 'Сделка ' + 'я'.repeat(142) + '😀 финал';

/** One interaction of acc's, its documents and files, as the account-filtered SQL would give them. */
const state = { name: 'Сделка', docs: [] as DocumentFile[], files: [] as AttachedFile[] };
const repo = {
  interactionName: async (accountId: string, id: string) => (accountId === acc.accountId && id === ID ? state.name : null),
  documentFiles: async (_a: string, _id: string, documentId?: string) => (documentId ? state.docs.slice(0, 1) : state.docs),
  files: async () => state.files,
};

/** What storage holds and how it fails: every stream it hands out is kept, to see it released. */
const storage = {
  opened: [] as Readable[],
  down: new Set<string>(),
  stat: jest.fn(async () => ({ size: 5, contentType: 'application/pdf', metadata: {}, lastModified: new Date() })),
  get: jest.fn(async (_bucket: string, key: string): Promise<StoredObject> => {
    if (storage.down.has(key)) throw new StorageUnavailableError('connect ECONNREFUSED 127.0.0.1:9000');
    const stream = Readable.from([Buffer.from(`%PDF-${key}`)]);
    storage.opened.push(stream);
    return { stream, size: 5 + key.length, contentType: 'application/pdf', metadata: {}, lastModified: new Date() };
  }),
};

const doc = (name: string, key: string): DocumentFile => ({ name, filename: `${key}.pdf`, storage_key: key, content_type: 'application/pdf', render_state: 'rendered' });

@Module({
  controllers: [BundleController],
  providers: [
    { provide: OBJECT_STORAGE, useValue: storage as unknown as ObjectStorage },
    { provide: BundleService, useFactory: (s: ObjectStorage) => new BundleService(repo as unknown as BundleRepository, s), inject: [OBJECT_STORAGE] },
  ],
})
class ProbeModule {}

let app: INestApplication;

beforeAll(async () => {
  app = await NestFactory.create(ProbeModule, { logger: false });
  app.use((req: Request & { account?: AccountContext }, _res: Response, next: NextFunction) => {
    req.account = acc;
    next();
  });
  app.useGlobalFilters(new HttpErrorFilter());
  await app.init();
});

afterAll(() => app.close());

beforeEach(() => {
  Object.assign(state, { name: 'Сделка', docs: [], files: [] });
  storage.opened.length = 0;
  storage.down.clear();
  storage.get.mockClear();
});

/** The raw bytes of an answer (supertest would not buffer application/zip otherwise). */
const binary = (res: ClientResponse, done: (err: Error | null, body: Buffer) => void) => {
  const parts: Buffer[] = [];
  res.on('data', (c: Buffer) => parts.push(c));
  res.on('end', () => done(null, Buffer.concat(parts)));
};

/** A GET as a plain HTTP client sees it: the status, the bytes that came, and whether the body ended properly. */
const rawGet = (path: string): Promise<{ status: number; body: Buffer; complete: boolean }> =>
  new Promise((resolve, reject) => {
    const server = (app.getHttpServer() as Server).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c)).on('error', () => undefined); // a cut connection is what is tested
        // 'close' comes either way: after 'end', or when the connection is cut first
        res.on('close', () => server.close(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), complete: res.complete })));
      });
      req.on('error', reject);
    });
  });

const entries = (zip: Buffer): Promise<string[]> =>
  new Promise((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => {
      if (err || !z) return reject(err);
      const names: string[] = [];
      z.on('entry', (e: yauzl.Entry) => (names.push(e.fileName), z.readEntry()));
      z.on('end', () => resolve(names)).on('error', reject);
      z.readEntry();
    }),
  );

describe(BundleController.name, () => {
  it("answers a clean 503 STORAGE_UNAVAILABLE, not a reset connection, when storage fails opening the bundle's first entry", async () => {
    state.docs = [doc('Счёт', 'k1'), doc('Акт', 'k2')];
    storage.down.add('k1'); // stat passed; the outage starts before the entry is opened
    const res = await request(app.getHttpServer()).get(`/v2/docs/interactions/${ID}/bundle`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'ERROR', code: 'STORAGE_UNAVAILABLE' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toBeUndefined();
    expect(res.headers['x-bundle-entries']).toBeUndefined();
    expect(storage.get).toHaveBeenCalledTimes(1);
  });

  it('breaks the transfer off, with no ZIP end record, when storage fails after the 200 has started', async () => {
    state.docs = [doc('Счёт', 'k1'), doc('Акт', 'k2')];
    storage.down.add('k2');
    const got = await rawGet(`/v2/docs/interactions/${ID}/bundle`);
    expect(got.status).toBe(200);
    // the client sees the transfer stop short, not a complete response with a whole-looking archive
    expect(got.complete).toBe(false);
    expect(got.body.subarray(0, 2).toString('latin1')).toBe('PK');
    expect(got.body.includes(Buffer.from([0x50, 0x4b, 0x05, 0x06]))).toBe(false); // end of central directory
    expect(storage.opened[0]!.destroyed).toBe(true);
  });

  it('answers 200 with a name cut at a whole character when the emoji falls at the cut', async () => {
    state.name = LONG;
    state.docs = [doc(LONG, 'k1')];
    const bundle = await request(app.getHttpServer()).get(`/v2/docs/interactions/${ID}/bundle`).buffer(true).parse(binary);
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent('Сделка ' + 'я'.repeat(142) + '😀')}.zip`);
    expect(await entries(bundle.body as Buffer)).toEqual([`documents/Сделка ${'я'.repeat(142)}😀.pdf`]);

    const one = await request(app.getHttpServer()).post(`/v2/docs/interactions/${ID}/download`).send({ documentId: DOC }).buffer(true).parse(binary);
    expect(one.status).toBe(200);
    expect(one.headers['content-disposition']).toContain(encodeURIComponent(`${'я'.repeat(142)}😀.pdf`));
    expect((one.body as Buffer).toString()).toBe('%PDF-k1');
  });

  it('releases the opened file when the download fails before it is streamed', async () => {
    // Half a surrogate pair (no replica holds one, but any header that cannot be written does the same)
    state.docs = [doc('Скан \ud83d', 'k1')];
    const res = await request(app.getHttpServer()).post(`/v2/docs/interactions/${ID}/download`).send({ documentId: DOC });
    expect(res.status).toBe(500);
    expect(storage.opened).toHaveLength(1);
    expect(storage.opened[0]!.destroyed).toBe(true);
  });
});
