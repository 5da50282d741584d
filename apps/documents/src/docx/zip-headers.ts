/**
 * The one reader of ZIP records (PKWARE APPNOTE 4.3) in this service: the upload sniffer reads
 * local headers from the first bytes of a file, the DOCX guard walks the central directory of
 * a whole one. Pure, bounds-checked, nothing inflated: a record that is not where it should be,
 * or does not fit in the buffer, is null and the caller decides what that means.
 */

export const LOCAL_HEADER_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const LOCAL_HEADER_SIG = 0x04034b50;
const CENTRAL_HEADER_SIG = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY_SIG = 0x06054b50;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const END_OF_CENTRAL_DIRECTORY_BYTES = 22;

export interface ZipLocalHeader {
  /** 0 stored, 8 deflated. */
  method: number;
  /** 0 when the writer streamed the entry (sizes in a data descriptor after it). */
  compressedSize: number;
  /** Null when the name runs past the end of the buffer. */
  name: string | null;
  /** Where the entry's data starts. */
  dataStart: number;
}

/** The local file header at `at`. */
export function readLocalHeader(buf: Buffer, at: number): ZipLocalHeader | null {
  if (at < 0 || at + LOCAL_HEADER_BYTES > buf.length || buf.readUInt32LE(at) !== LOCAL_HEADER_SIG) return null;
  const nameEnd = at + LOCAL_HEADER_BYTES + buf.readUInt16LE(at + 26);
  return {
    method: buf.readUInt16LE(at + 8),
    compressedSize: buf.readUInt32LE(at + 18),
    name: nameEnd <= buf.length ? buf.subarray(at + LOCAL_HEADER_BYTES, nameEnd).toString('utf8') : null,
    dataStart: nameEnd + buf.readUInt16LE(at + 28),
  };
}

export interface ZipEndOfCentralDirectory {
  entries: number;
  /** Offset of the first central directory header. */
  offset: number;
}

/** The end-of-central-directory record, searched for backwards from the end. */
export function readEndOfCentralDirectory(buf: Buffer): ZipEndOfCentralDirectory | null {
  // The record is 22 bytes plus a comment of at most 65535 bytes, so it is near the end.
  const stop = Math.max(0, buf.length - END_OF_CENTRAL_DIRECTORY_BYTES - 0xffff);
  for (let i = buf.length - END_OF_CENTRAL_DIRECTORY_BYTES; i >= stop; i--) {
    if (buf.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY_SIG) return { entries: buf.readUInt16LE(i + 10), offset: buf.readUInt32LE(i + 16) };
  }
  return null;
}

export interface ZipCentralHeader {
  method: number;
  compressedSize: number;
  /** The uncompressed size the archive declares. */
  size: number;
  localHeaderOffset: number;
  /** Where the next central directory header starts. */
  next: number;
}

/** The central directory header at `at`. */
export function readCentralHeader(buf: Buffer, at: number): ZipCentralHeader | null {
  if (at + CENTRAL_HEADER_BYTES > buf.length || buf.readUInt32LE(at) !== CENTRAL_HEADER_SIG) return null;
  return {
    method: buf.readUInt16LE(at + 10),
    compressedSize: buf.readUInt32LE(at + 20),
    size: buf.readUInt32LE(at + 24),
    localHeaderOffset: buf.readUInt32LE(at + 42),
    next: at + CENTRAL_HEADER_BYTES + buf.readUInt16LE(at + 28) + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32),
  };
}
