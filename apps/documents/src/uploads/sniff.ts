import { fromBuffer } from 'file-type';
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { LOCAL_HEADER_SIGNATURE, readLocalHeader } from '../docx/zip-headers';

/**
 * What an upload really is, judged from its first bytes only (the name and the declared
 * Content-Type are the client's word, not evidence). Only the kinds the documents service
 * can use are recognised; anything else is null and the upload is refused with 415.
 */

export type SniffedKind = 'html' | 'docx' | 'xlsx' | 'pdf' | 'png' | 'jpeg';

export interface SniffResult {
  kind: SniffedKind;
  mime: string;
  ext: string;
}

/** Enough for file-type's checks and for the first few entries of an OOXML zip. */
export const MAX_SNIFF_BYTES = 4100;

const DOCX: SniffResult = { kind: 'docx', mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', ext: 'docx' };
const XLSX: SniffResult = { kind: 'xlsx', mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ext: 'xlsx' };
const PDF: SniffResult = { kind: 'pdf', mime: 'application/pdf', ext: 'pdf' };
const PNG: SniffResult = { kind: 'png', mime: 'image/png', ext: 'png' };
const JPEG: SniffResult = { kind: 'jpeg', mime: 'image/jpeg', ext: 'jpg' };
const HTML: SniffResult = { kind: 'html', mime: 'text/html', ext: 'html' };

/** The file-type results we accept; every other format it knows is refused. */
const BY_FILE_TYPE = new Map<string, SniffResult>([
  ['pdf', PDF],
  ['png', PNG],
  ['apng', PNG],
  ['jpg', JPEG],
  ['docx', DOCX],
  ['xlsx', XLSX],
]);

/**
 * @param head the first bytes of the upload (at most MAX_SNIFF_BYTES are looked at)
 * @param _declaredName accepted so callers can pass what they have, and deliberately unused:
 *   an executable named invoice.pdf is still an executable
 */
export async function sniffUpload(head: Buffer, _declaredName: string): Promise<SniffResult | null> {
  const buf = head.subarray(0, MAX_SNIFF_BYTES);
  if (buf.length === 0) return null;
  // Executables and scripts are refused before anything else could find markup in them.
  if (startsWith(buf, 'MZ') || startsWith(buf, '\x7fELF') || startsWith(buf, '#!')) return null;

  const detected = (await fromBuffer(buf))?.ext;
  if (detected === 'zip') return sniffOfficeZip(buf);
  // file-type has no magic for HTML; XHTML starting with <?xml is reported as xml.
  if (detected === undefined || detected === 'xml') return looksLikeHtml(buf) ? HTML : null;
  return BY_FILE_TYPE.get(detected) ?? null;
}

function startsWith(buf: Buffer, prefix: string): boolean {
  return buf.subarray(0, prefix.length).equals(Buffer.from(prefix, 'latin1'));
}

// ---------------------------------------------------------------------------------------
// OOXML inside a zip

/**
 * file-type walks local headers by their compressed sizes and gives up ("zip") when a writer
 * streamed entries with data descriptors (sizes 0 in the header), or when word/ or xl/ comes
 * after the head. So: every local-header signature in the head is tried for an entry name,
 * and [Content_Types].xml, which writers put first, is inflated to read the main part's type.
 */
function sniffOfficeZip(buf: Buffer): SniffResult | null {
  for (let p = buf.indexOf(LOCAL_HEADER_SIGNATURE); p >= 0; p = buf.indexOf(LOCAL_HEADER_SIGNATURE, p + 4)) {
    const header = readLocalHeader(buf, p);
    if (!header) break; // the rest of the head is too short for a header
    const { name } = header;
    if (!name) continue;
    if (name.startsWith('word/')) return DOCX;
    if (name.startsWith('xl/')) return XLSX;
    if (name === '[Content_Types].xml') {
      const start = header.dataStart;
      const end = header.compressedSize > 0 ? Math.min(buf.length, start + header.compressedSize) : buf.length;
      const types = readContentTypes(buf.subarray(start, end), header.method);
      if (types.includes('wordprocessingml.document.main+xml')) return DOCX;
      if (types.includes('spreadsheetml.sheet.main+xml')) return XLSX;
    }
  }
  return null;
}

function readContentTypes(data: Buffer, method: number): string {
  if (method === 0) return data.toString('utf8');
  if (method !== 8) return '';
  try {
    // SYNC_FLUSH returns what inflates from a deflate stream cut off by the end of the head.
    return inflateRawSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 256 * 1024 }).toString('utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------
// HTML

const HTML_START = /^(?:<!doctype\s+html[\s>]|<html[\s>])/i;
const HTML_TAG = /<(?:html|head|body|table|div|p)[\s>/]/i;

function looksLikeHtml(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  let text: string;
  try {
    // stream: true tolerates a character cut in half at the end of the head.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf, { stream: true });
  } catch {
    return false;
  }
  // Control characters other than tab/newline/CR/FF mean binary, not a template.
  if (/[\x01-\x08\x0b\x0e-\x1f\x7f]/.test(text)) return false;
  const start = skipProlog(text);
  if (/^<svg[\s>]/i.test(start)) return false;
  return HTML_START.test(start) || HTML_TAG.test(text.slice(0, 1024));
}

/** Leading whitespace, comments and an XML declaration, which may precede <!doctype html>. */
function skipProlog(text: string): string {
  let rest = text;
  for (;;) {
    const trimmed = rest.replace(/^\s+/, '');
    const m = /^(?:<!--[\s\S]*?-->|<\?xml[\s\S]*?\?>)/.exec(trimmed);
    if (!m) return trimmed;
    rest = trimmed.slice(m[0].length);
  }
}
