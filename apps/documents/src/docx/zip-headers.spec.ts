import PizZip from 'pizzip';
import { readCentralHeader, readEndOfCentralDirectory, readLocalHeader } from './zip-headers';

function zipOf(files: Record<string, string>): Buffer {
  const zip = new PizZip();
  for (const [name, data] of Object.entries(files)) zip.file(name, data);
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}

describe('zip headers', () => {
  it('walks the central directory to each local header and its data', () => {
    const buf = zipOf({ '[Content_Types].xml': '<Types/>', 'word/document.xml': 'x'.repeat(300) });
    const end = readEndOfCentralDirectory(buf)!;
    expect(end.entries).toBe(2);
    const names: string[] = [];
    for (let p = end.offset, n = 0; n < end.entries; n++) {
      const entry = readCentralHeader(buf, p)!;
      const local = readLocalHeader(buf, entry.localHeaderOffset)!;
      expect(local.method).toBe(8);
      expect(local.dataStart + entry.compressedSize).toBeLessThanOrEqual(buf.length);
      names.push(local.name!);
      p = entry.next;
    }
    expect(names).toEqual(['[Content_Types].xml', 'word/document.xml']);
  });

  it('answers null where a record is not, or does not fit, and a null name when the name is cut off', () => {
    const buf = zipOf({ 'word/document.xml': 'x' });
    expect(readLocalHeader(buf, 1)).toBeNull();
    expect(readCentralHeader(buf, 0)).toBeNull();
    expect(readEndOfCentralDirectory(Buffer.from('PK not a zip at all, long enough'))).toBeNull();
    expect(readLocalHeader(buf.subarray(0, 29), 0)).toBeNull();
    expect(readLocalHeader(buf.subarray(0, 35), 0)).toMatchObject({ name: null, method: 8 });
  });
});
