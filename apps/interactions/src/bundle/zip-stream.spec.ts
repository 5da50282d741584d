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

  it('stores what is compressed already', () => {
    expect(['application/pdf', 'image/png', 'image/jpeg', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'].map(isCompressed)).toEqual([true, true, true, true]);
    expect(['text/html', 'text/plain', null].map(isCompressed)).toEqual([false, false, false]);
  });
});
