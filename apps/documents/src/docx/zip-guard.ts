import { inflateRawSync } from 'node:zlib';

/**
 * PizZip inflates a whole entry before it compares the result with the size the header
 * declares, so a DOCX of a few hundred KB can still expand to gigabytes in memory. This
 * walks the central directory first and inflates each entry with a hard output cap: a
 * template is refused before PizZip ever touches it if it is too big or lies about sizes.
 */

export interface ZipLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
}

/** Generous for office templates (a typical DOCX unpacks to well under 5 MB). */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 2000,
  maxEntryBytes: 64 * 1024 * 1024,
  maxTotalBytes: 128 * 1024 * 1024,
};

export class ZipLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipLimitError';
  }
}

const EOCD_SIG = 0x06054b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;

function findEndOfCentralDirectory(buf: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, so it is near the end.
  const stop = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= stop; i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) return i;
  }
  return -1;
}

export function assertZipWithinLimits(buf: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): void {
  if (buf.length < 22) throw new ZipLimitError('not a zip archive');
  const eocd = findEndOfCentralDirectory(buf);
  if (eocd < 0) throw new ZipLimitError('not a zip archive (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new ZipLimitError('zip64 archives are not accepted');
  if (count > limits.maxEntries) throw new ZipLimitError(`too many zip entries (${count})`);

  let total = 0;
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CDH_SIG) throw new ZipLimitError('corrupted zip central directory');
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const declared = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    p += 46 + nameLen + extraLen + commentLen;

    if (declared > limits.maxEntryBytes) throw new ZipLimitError(`zip entry too large (${declared} bytes)`);
    total += declared;
    if (total > limits.maxTotalBytes) throw new ZipLimitError(`zip expands to more than ${limits.maxTotalBytes} bytes`);

    if (local + 30 > buf.length || buf.readUInt32LE(local) !== LFH_SIG) throw new ZipLimitError('corrupted zip local header');
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + compressed > buf.length) throw new ZipLimitError('truncated zip entry');
    const data = buf.subarray(start, start + compressed);
    if (method === 0) {
      if (compressed !== declared) throw new ZipLimitError('stored zip entry size mismatch');
    } else if (method === 8) {
      let actual: number;
      try {
        // One byte over the declared size is enough to catch a header that lies.
        actual = inflateRawSync(data, { maxOutputLength: declared + 1 }).length;
      } catch {
        throw new ZipLimitError('zip entry inflates beyond its declared size or is corrupted');
      }
      if (actual !== declared) throw new ZipLimitError('zip entry size mismatch');
    } else {
      throw new ZipLimitError(`unsupported zip compression method ${method}`);
    }
  }
}
