import PizZip from 'pizzip';
import { assertZipWithinLimits, DEFAULT_ZIP_LIMITS, ZipLimitError } from './zip-guard';

function zipOf(files: Record<string, string | Buffer>, compression: 'STORE' | 'DEFLATE' = 'DEFLATE'): Buffer {
  const zip = new PizZip();
  for (const [name, data] of Object.entries(files)) zip.file(name, data);
  return zip.generate({ type: 'nodebuffer', compression });
}

describe('assertZipWithinLimits', () => {
  const small = { maxEntries: 3, maxEntryBytes: 1000, maxTotalBytes: 1500 };

  it('accepts an ordinary archive, stored or deflated', () => {
    const files = { 'a.xml': '<a>привет</a>', 'b/c.xml': 'x'.repeat(900) };
    expect(() => assertZipWithinLimits(zipOf(files), small)).not.toThrow();
    expect(() => assertZipWithinLimits(zipOf(files, 'STORE'), small)).not.toThrow();
  });

  it('refuses too many entries, a too large entry, and too much in total', () => {
    expect(() => assertZipWithinLimits(zipOf({ a: '1', b: '2', c: '3', d: '4' }), small)).toThrow(/too many/);
    expect(() => assertZipWithinLimits(zipOf({ a: Buffer.alloc(1001) }), small)).toThrow(/entry too large/);
    expect(() => assertZipWithinLimits(zipOf({ a: Buffer.alloc(800), b: Buffer.alloc(800) }), small)).toThrow(/expands to more/);
  });

  it('refuses an entry that inflates beyond what its header declares', () => {
    const buf = zipOf({ 'bomb.xml': Buffer.alloc(100_000) });
    const cd = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    buf.writeUInt32LE(500, cd + 24);
    expect(() => assertZipWithinLimits(buf, DEFAULT_ZIP_LIMITS)).toThrow(ZipLimitError);
    expect(() => assertZipWithinLimits(buf, DEFAULT_ZIP_LIMITS)).toThrow(/declared size/);
  });

  it('refuses an archive that declares fewer entries than its central directory holds', () => {
    // The entry left out of the count is one the limits would refuse, and PizZip still reads it.
    const buf = zipOf({ 'a.xml': '<a/>', 'big.xml': Buffer.alloc(5000) });
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    buf.writeUInt16LE(1, eocd + 8);
    buf.writeUInt16LE(1, eocd + 10);
    expect(new PizZip(buf).file('big.xml')?.asNodeBuffer().length).toBe(5000);
    expect(() => assertZipWithinLimits(buf, small)).toThrow(/more entries than the 1 it declares/);
  });

  it('refuses what is not a zip or is truncated', () => {
    expect(() => assertZipWithinLimits(Buffer.from('hello'))).toThrow(/not a zip/);
    expect(() => assertZipWithinLimits(Buffer.alloc(100))).toThrow(/not a zip/);
    const buf = zipOf({ 'a.xml': 'x'.repeat(5000) });
    expect(() => assertZipWithinLimits(Buffer.concat([buf.subarray(0, 40), buf.subarray(buf.length - 100)]))).toThrow(ZipLimitError);
  });
});
