import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FsStorage } from './fs.storage';

const text = async (s: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
};

describe(FsStorage.name, () => {
  let root: string;
  let storage: FsStorage;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'papka-fs-storage-'));
    storage = new FsStorage(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores a buffer and a stream with their type and metadata, and reads them back', async () => {
    await storage.ensureBucket('documents');
    expect(await storage.put('documents', 'acc/a.pdf', Buffer.from('%PDF-1'), { contentType: 'application/pdf', metadata: { document: 'd1' } })).toEqual({ size: 6 });
    expect(await storage.put('documents', 'acc/b.txt', Readable.from([Buffer.from('he'), Buffer.from('llo')]))).toEqual({ size: 5 });
    const a = await storage.get('documents', 'acc/a.pdf');
    expect(a).toMatchObject({ size: 6, contentType: 'application/pdf', metadata: { document: 'd1' } });
    expect(await text(a.stream)).toBe('%PDF-1');
    expect(await text((await storage.get('documents', 'acc/b.txt')).stream)).toBe('hello');
  });

  it('still stores into a directory removed after it was first made', async () => {
    await storage.ensureBucket('documents');
    await storage.put('documents', 'acc/a.pdf', Buffer.from('one'));
    rmSync(path.join(root, 'documents'), { recursive: true, force: true });
    await storage.put('documents', 'acc/b.pdf', Buffer.from('two'));
    expect(await text((await storage.get('documents', 'acc/b.pdf')).stream)).toBe('two');
  });

  it("removes a document's file with its own directory, keeps the account's, and stores there again after", async () => {
    await storage.put('documents', 'acc/doc-1/a.pdf', Buffer.from('one'));
    await storage.put('documents', 'acc/doc-2/b.pdf', Buffer.from('two'));
    await storage.remove('documents', 'acc/doc-1/a.pdf');
    expect(existsSync(path.join(root, 'documents/acc/doc-1'))).toBe(false);
    expect(existsSync(path.join(root, 'documents/acc/doc-2/b.pdf'))).toBe(true);
    await storage.remove('documents', 'acc/doc-1/a.pdf'); // idempotent
    await storage.put('documents', 'acc/doc-1/c.pdf', Buffer.from('three'));
    expect(await text((await storage.get('documents', 'acc/doc-1/c.pdf')).stream)).toBe('three');
  });

  it('lists objects with nested keys, not their sidecars or unfinished writes, and nothing for a bucket not made', async () => {
    await storage.put('documents', 'acc/doc-1/a.pdf', Buffer.from('one'));
    await storage.put('documents', 'acc/b.html', Buffer.from('two!'));
    writeFileSync(path.join(root, 'documents/acc/c.pdf.123.tmp'), 'half');
    const listed = [];
    for await (const o of storage.list('documents')) listed.push(o);
    expect(listed.map((o) => o.key).sort()).toEqual(['acc/b.html', 'acc/doc-1/a.pdf']);
    const one = listed.find((o) => o.key === 'acc/b.html')!;
    expect(one.size).toBe(4);
    expect(Date.now() - one.lastModified.getTime()).toBeLessThan(3_600_000);
    const none = [];
    for await (const o of storage.list('uploads')) none.push(o);
    expect(none).toEqual([]);
  });
});
