import { inflateRawSync } from 'node:zlib';
import { readCentralHeader, readEndOfCentralDirectory, readLocalHeader } from './zip-headers';

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

export function assertZipWithinLimits(buf: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): void {
  if (buf.length < 22) throw new ZipLimitError('not a zip archive');
  const eocd = readEndOfCentralDirectory(buf);
  if (!eocd) throw new ZipLimitError('not a zip archive (no end of central directory)');
  const count = eocd.entries;
  if (count === 0xffff || eocd.offset === 0xffffffff) throw new ZipLimitError('zip64 archives are not accepted');
  if (count > limits.maxEntries) throw new ZipLimitError(`too many zip entries (${count})`);

  let total = 0;
  let p = eocd.offset;
  // As PizZip reads it: every header in a row from the offset, whatever the count says. An
  // archive with more headers than it declares would have its extra entries read unchecked.
  for (let n = 0; ; n++) {
    const entry = readCentralHeader(buf, p);
    if (n === count) {
      if (entry) throw new ZipLimitError(`zip central directory holds more entries than the ${count} it declares`);
      break;
    }
    if (!entry) throw new ZipLimitError('corrupted zip central directory');
    const { method, compressedSize: compressed, size: declared } = entry;
    p = entry.next;

    if (declared > limits.maxEntryBytes) throw new ZipLimitError(`zip entry too large (${declared} bytes)`);
    total += declared;
    if (total > limits.maxTotalBytes) throw new ZipLimitError(`zip expands to more than ${limits.maxTotalBytes} bytes`);

    const local = readLocalHeader(buf, entry.localHeaderOffset);
    if (!local) throw new ZipLimitError('corrupted zip local header');
    const start = local.dataStart;
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
