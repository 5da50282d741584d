import { PassThrough, Readable, Writable } from 'node:stream';
import yauzl from 'yauzl';
import { isCompressed, streamZip, type ZipSource } from './zip-stream';

const source = (name: string, data: Buffer | (() => Readable), compressed = false): ZipSource & { opened: () => number } => {
  let opened = 0;
  return {
    name,
    compressed,
    opened: () => opened,
    open: async () => {
      opened++;
      return typeof data === 'function' ? data() : Readable.from([data]);
    },
  };
};

const unzip = (zip: Buffer): Promise<Record<string, string>> =>
  new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return reject(err);
      const out: Record<string, string> = {};
      file.on('entry', (e: yauzl.Entry) =>
        file.openReadStream(e, (e2, s) => {
          if (e2 || !s) return reject(e2);
          const parts: Buffer[] = [];
          s.on('data', (c: Buffer) => parts.push(c)).on('end', () => {
            out[e.fileName] = Buffer.concat(parts).toString();
            file.readEntry();
          });
        }),
      );
      file.on('end', () => resolve(out)).on('error', reject);
      file.readEntry();
    });
  });

describe('streamZip', () => {
  it('writes every source as an entry, in order', async () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    await streamZip([source('documents/Счёт.pdf', Buffer.from('%PDF-1'), true), source('files/a.html', Buffer.from('<p>Привет</p>'))], sink);
    expect(await unzip(Buffer.concat(chunks))).toEqual({ 'documents/Счёт.pdf': '%PDF-1', 'files/a.html': '<p>Привет</p>' });
  });

  it('opens a source only when the archive reaches it', async () => {
    const sources = [source('a', Buffer.alloc(10)), source('b', Buffer.alloc(10)), source('c', Buffer.alloc(10))];
    const sink = new PassThrough();
    const seen: number[][] = [];
    sink.on('data', () => seen.push(sources.map((s) => s.opened())));
    await streamZip(sources, sink);
    expect(seen[0]).toEqual([1, 0, 0]);
    expect(sources.map((s) => s.opened())).toEqual([1, 1, 1]);
  });

  it('stops and releases the open source when the client goes away', async () => {
    let endless: Readable | undefined;
    const big = () => {
      endless = new Readable({ read() { this.push(Buffer.alloc(64 * 1024, 1)); } });
      return endless;
    };
    const later = source('later', Buffer.from('x'));
    let written = 0;
    const client = new Writable({
      write(chunk: Buffer, _enc, done) {
        written += chunk.length;
        if (written > 1024 * 1024) this.destroy();
        done();
      },
    });
    await streamZip([source('big', big, true), later], client);
    expect(endless!.destroyed).toBe(true);
    expect(later.opened()).toBe(0);
  });

  it('ends the response when a source fails mid-way', async () => {
    const failing = () => {
      const s = new PassThrough();
      s.write('partial');
      setImmediate(() => s.destroy(new Error('storage connection reset')));
      return s;
    };
    const sink = new PassThrough();
    sink.resume();
    let error: Error | undefined;
    sink.on('error', (e: Error) => (error = e));
    await streamZip([source('broken', failing), source('after', Buffer.from('x'))], sink);
    // the client sees a broken response, not a ZIP that looks whole
    expect(sink.destroyed).toBe(true);
    expect(error?.message).toBe('storage connection reset');
  });

  it('rejects before writing a byte or calling start when the first source cannot be opened', async () => {
    const outage = Object.assign(new Error('File storage is not reachable right now'), { code: 'STORAGE_UNAVAILABLE' });
    const after = source('after', Buffer.from('x'));
    const sources: ZipSource[] = [{ name: 'first', compressed: true, open: () => Promise.reject(outage) }, after];
    const sink = new PassThrough();
    const written: Buffer[] = [];
    sink.on('data', (c: Buffer) => written.push(c));
    const start = jest.fn();
    await expect(streamZip(sources, sink, start)).rejects.toBe(outage);
    // the caller can still answer the error (a 503): no headers set, nothing sent, the response open
    expect(start).not.toHaveBeenCalled();
    expect(written).toEqual([]);
    expect(sink.destroyed).toBe(false);
    expect(after.opened()).toBe(0);
  });

  it('releases the first source, opened already, when start fails', async () => {
    const first = new PassThrough();
    const sink = new PassThrough();
    const refused = new Error('invalid header');
    await expect(
      streamZip([{ name: 'a', compressed: false, open: async () => first }], sink, () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(first.destroyed).toBe(true);
  });

  it('aborts the archive, never finalizing it, when a later source cannot be opened', async () => {
    const sink = new PassThrough();
    const written: Buffer[] = [];
    sink.on('data', (c: Buffer) => written.push(c)).on('error', () => undefined);
    const start = jest.fn();
    const sources: ZipSource[] = [source('a.pdf', Buffer.from('%PDF-1'), true), { name: 'b.pdf', compressed: true, open: () => Promise.reject(new Error('storage down')) }];
    await streamZip(sources, sink, start);
    expect(start).toHaveBeenCalledTimes(1);
    expect(sink.destroyed).toBe(true);
    // the first entry went out; no end of central directory record, so no tool takes it for a whole ZIP
    expect(Buffer.concat(written).subarray(0, 2).toString('latin1')).toBe('PK');
    expect(Buffer.concat(written).includes(Buffer.from([0x50, 0x4b, 0x05, 0x06]))).toBe(false);
  });

  it('releases the first source when the client left while it was being opened', async () => {
    const out = new PassThrough();
    out.destroy();
    const first = new PassThrough();
    first.write(Buffer.alloc(1024));
    const later = source('later', Buffer.from('x'));
    await streamZip([{ name: 'a', compressed: true, open: async () => first }, later], out);
    expect(first.destroyed).toBe(true);
    expect(later.opened()).toBe(0);
  });

  it('stores what is compressed already', () => {
    expect(['application/pdf', 'image/png', 'image/jpeg', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'].map(isCompressed)).toEqual([true, true, true, true]);
    expect(['text/html', 'text/plain', null].map(isCompressed)).toEqual([false, false, false]);
  });
});
