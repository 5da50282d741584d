import crypto from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Request } from 'express';
import type { AccountContext } from '@papka/auth';
import { NotFoundError } from '@papka/platform';
import { FsStorage, type ObjectStorage } from '@papka/storage';
import { fakeCommands } from '@papka/testing';
import type { DocumentsConfig } from '../config';
import type { Upload } from './upload.entity';
import type { UploadsRepository } from './uploads.repository';
import { UploadsService } from './uploads.service';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;
const other = { accountId: 'acc-2', userId: 'v' } as AccountContext;

describe(UploadsService.name, () => {
  let rows: Upload[];
  let repo: { insert: jest.Mock; findByFilename: jest.Mock };
  let storage: { put: jest.Mock; ensureBucket: jest.Mock };
  let sut: UploadsService;

  beforeEach(() => {
    rows = [{ id: 'u1', accountId: acc.accountId, filename: 'a1b2c3d4e5.html', kind: 'html', size: 10 } as Upload];
    repo = {
      insert: jest.fn(),
      findByFilename: jest.fn(async (accountId: string, filename: string) => rows.find((r) => r.accountId === accountId && r.filename === filename) ?? null),
    };
    storage = { put: jest.fn(), ensureBucket: jest.fn() };
    sut = new UploadsService(
      { UPLOAD_LIMIT_BYTES: 1024 * 1024 } as DocumentsConfig,
      storage as unknown as ObjectStorage,
      repo as unknown as UploadsRepository,
      fakeCommands().commands,
    );
  });

  it("finds the account's upload by its name, and 404s it for another account", async () => {
    await expect(sut.find(acc, 'a1b2c3d4e5.html')).resolves.toMatchObject({ id: 'u1' });
    await expect(sut.find(other, 'a1b2c3d4e5.html')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('415s a body that is not multipart, storing nothing, its body read through first', async () => {
    const req = Object.assign(new PassThrough(), { headers: { 'content-type': 'application/pdf', 'content-length': '10' } }) as unknown as Request;
    (req as unknown as PassThrough).end(Buffer.from('%PDF-1.4\n\n'));
    await expect(sut.upload(acc, req)).rejects.toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect((req as unknown as PassThrough).readableEnded).toBe(true);
    expect(storage.put).not.toHaveBeenCalled();
    expect(repo.insert).not.toHaveBeenCalled();
  });

  it('400s a file name longer than 255 characters, naming file, before storing anything', async () => {
    const boundary = 'papka-boundary';
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${'я'.repeat(3000)}.html"\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--${boundary}--\r\n`,
    );
    const req = Object.assign(new PassThrough(), {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) },
    }) as unknown as Request;
    (req as unknown as PassThrough).end(body);
    await expect(sut.upload(acc, req)).rejects.toMatchObject({ status: 400, errors: { file: [expect.stringContaining('255')] } });
    expect(storage.put).not.toHaveBeenCalled();
    expect(repo.insert).not.toHaveBeenCalled();
  });

  it('413s a body declared far over the limit without reading it, and closes the connection after', async () => {
    const res = { setHeader: jest.fn() };
    const req = Object.assign(new PassThrough(), {
      headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(3 * 1024 * 1024) },
      res,
    }) as unknown as Request;
    await expect(sut.upload(acc, req)).rejects.toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(storage.put).not.toHaveBeenCalled();
    expect(res.setHeader).toHaveBeenCalledWith('Connection', 'close');
  });

  it('413s a body declared a little over the limit after reading it through, so the connection ends cleanly', async () => {
    const res = { setHeader: jest.fn() };
    const body = Buffer.alloc(1200 * 1024, 0x20);
    const req = Object.assign(new PassThrough(), {
      headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(body.length) },
      res,
    }) as unknown as Request;
    (req as unknown as PassThrough).end(body);
    await expect(sut.upload(acc, req)).rejects.toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect((req as unknown as PassThrough).readableEnded).toBe(true);
    expect(storage.put).not.toHaveBeenCalled();
    expect(res.setHeader).not.toHaveBeenCalledWith('Connection', 'close');
  });

  it("draws the name again when the account has an upload of that name, so its file is never overwritten", async () => {
    const draws = [Buffer.from('a1b2c3d4e5', 'hex'), Buffer.from('0f0f0f0f0f', 'hex')];
    const spy = jest.spyOn(crypto, 'randomBytes').mockImplementation((() => draws.shift()) as never);
    try {
      storage.put.mockImplementation(async (_bucket: string, _key: string, body: PassThrough) => {
        for await (const _ of body) void _;
        return { size: 8 };
      });
      repo.insert.mockImplementation(async (_m: unknown, _acc: string, row: Upload) => row);
      const boundary = 'papka-boundary';
      const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.html"\r\nContent-Type: text/html\r\n\r\n<p>новый</p>\r\n--${boundary}--\r\n`);
      const req = Object.assign(new PassThrough(), {
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) },
      }) as unknown as Request;
      (req as unknown as PassThrough).end(body);
      await sut.upload(acc, req);
      expect(storage.put).toHaveBeenCalledTimes(1);
      expect(storage.put.mock.calls[0]![1]).toBe('acc-1/0f0f0f0f0f.html');
      expect(repo.insert.mock.calls[0]![2]).toMatchObject({ filename: '0f0f0f0f0f.html', storageKey: 'acc-1/0f0f0f0f0f.html' });
    } finally {
      spy.mockRestore();
    }
  });

  describe('a body that breaks off (real file storage in a temporary directory)', () => {
    let root: string;
    const boundary = 'papka-boundary';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.html"\r\nContent-Type: text/html\r\n\r\n`);
    const html = Buffer.from(`<html><body>${'x'.repeat(20_000)}</body></html>`);
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));

    beforeEach(() => {
      root = mkdtempSync(path.join(tmpdir(), 'papka-uploads-'));
      sut = new UploadsService({ UPLOAD_LIMIT_BYTES: 1024 * 1024 } as DocumentsConfig, new FsStorage(root), repo as unknown as UploadsRepository, fakeCommands().commands);
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('400s a file part with no closing boundary past the sniffed head (it ended the process), keeping nothing', async () => {
      const body = Buffer.concat([head, html]);
      const req = Object.assign(new PassThrough(), {
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) },
      }) as unknown as Request;
      (req as unknown as PassThrough).end(body);
      await expect(sut.upload(acc, req)).rejects.toMatchObject({ status: 400, code: 'BAD_MULTIPART' });
      expect(repo.insert).not.toHaveBeenCalled();
      expect(files(root)).toEqual([]);
    });

    it('ends an upload whose client went away mid-body (it waited for ever), its partial file removed', async () => {
      const req = Object.assign(new PassThrough(), {
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + html.length + 500_000) },
        complete: false,
      }) as unknown as Request;
      const uploading = sut.upload(acc, req);
      (req as unknown as PassThrough).write(Buffer.concat([head, html]));
      // The put has the file's head on disk, waiting for the rest.
      const tmp = () => files(root).filter((f) => f.endsWith('.tmp'));
      for (let i = 0; i < 1000 && tmp().length === 0; i++) await new Promise((r) => setImmediate(r));
      expect(tmp()).toHaveLength(1);
      (req as unknown as PassThrough).destroy();
      await expect(uploading).rejects.toMatchObject({ status: 400, code: 'BAD_MULTIPART' });
      expect(repo.insert).not.toHaveBeenCalled();
      expect(files(root)).toEqual([]);
    });
  });
});

