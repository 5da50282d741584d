import Docxtemplater from 'docxtemplater';
import PizZip from 'pizzip';
import { TEMPLATE_HELPERS } from '../templates/engine/helpers';
import { assertZipWithinLimits, ZipLimitError } from './zip-guard';

/** The helpers a DOCX value tag may name (`{{money sum}}`); `eq` and `inc` need Handlebars' sub-expressions and `@index`. */
const DOCX_HELPERS = ['money', 'words', 'ruDate', 'shortDate', 'vatLabel'] as const;
const isDocxHelper = (name: string): name is (typeof DOCX_HELPERS)[number] => (DOCX_HELPERS as readonly string[]).includes(name);

/**
 * Fills masks in a user's DOCX template.
 *
 * Tags use `{{ }}`, the same delimiters as our Handlebars HTML templates, so one mask name
 * means the same thing in both kinds of template: `{{client}}`, `{{client.inn}}`, loops over
 * lines `{{#lines}}…{{/lines}}` (a loop alone in a paragraph or a table row repeats that
 * paragraph or row), conditions `{{#paid}}…{{/paid}}` / `{{^paid}}…{{/paid}}`, and a value through
 * one of the HTML templates' helpers: `{{money document.sumKopecks}}`, `{{words …}}`,
 * `{{ruDate document.createdAt}}` (the Moscow day), `{{shortDate …}}`, `{{vatLabel …}}`. Single braces
 * are plain text, so a template may contain `{` without escaping. Values are always inserted
 * as text (XML-escaped, "\n" becomes a line break); raw-XML tags (`{{@x}}`) are refused
 * because a value could then inject arbitrary WordprocessingML.
 */

export interface DocxTemplateIssue {
  /** The tag at fault as written between the delimiters, when the error is about one. */
  tag: string | null;
  /** docxtemplater's error id, e.g. "unclosed_tag", "unopened_loop", or ours ("invalid_zip"). */
  id: string;
  explanation: string;
  /** The part of the package, e.g. "word/document.xml". */
  part: string | null;
}

export class DocxTemplateError extends Error {
  constructor(
    message: string,
    readonly issues: DocxTemplateIssue[],
  ) {
    super(message);
    this.name = 'DocxTemplateError';
  }

  /** The tags at fault, for a 422 that tells the author what to fix. */
  get tags(): string[] {
    return [...new Set(this.issues.map((i) => i.tag).filter((t): t is string => t !== null))];
  }
}

export interface FillResult {
  docx: Buffer;
  /** How many external relationships (links LibreOffice could fetch) were removed. */
  externalRelationshipsRemoved: number;
}

export function fillDocx(template: Buffer, values: Record<string, unknown>): Buffer {
  return fillDocxDetailed(template, values).docx;
}

/**
 * How long filling one DOCX may take: it runs on the event loop, and loops nested in a template
 * multiply. Checked at every tag docxtemplater resolves (each loop resolves its list once per
 * iteration of the loop around it).
 */
export const DOCX_FILL_LIMIT_MS = { ms: 2_000 };

/**
 * The fill in progress (filling is synchronous: one at a time per process). Past its deadline
 * every tag resolves to nothing, so the loops still open end at once, and the fill is refused.
 */
let filling: { deadline: number; timedOut: boolean } | undefined;

export function fillDocxDetailed(template: Buffer, values: Record<string, unknown>): FillResult {
  const zip = loadZip(template);
  const externalRelationshipsRemoved = stripExternalRelationships(zip);
  const doc = compile(zip);
  const fill = (filling = { deadline: performance.now() + DOCX_FILL_LIMIT_MS.ms, timedOut: false });
  try {
    doc.render(values);
  } catch (err) {
    if (!fill.timedOut) throw toTemplateError(err);
  } finally {
    filling = undefined;
  }
  if (fill.timedOut) {
    const explanation = `filling the template took longer than ${DOCX_FILL_LIMIT_MS.ms} ms (loops nested over large lists?)`;
    throw new DocxTemplateError(`DOCX template error: ${explanation}`, [{ tag: null, id: 'fill_time_limit', explanation, part: null }]);
  }
  const docx = doc.toBuffer({ compression: 'DEFLATE' });
  return { docx, externalRelationshipsRemoved };
}

/** Mask names used in a template (loop names and the fields inside loops included), sorted. */
export function listDocxPlaceholders(template: Buffer): string[] {
  const tags = new Set<string>();
  compile(loadZip(template), (tag) => tags.add(tag));
  return [...tags].sort();
}

function loadZip(template: Buffer): PizZip {
  try {
    assertZipWithinLimits(template);
    return new PizZip(template);
  } catch (err) {
    const explanation = err instanceof ZipLimitError ? err.message : 'the file is not a readable DOCX (zip) archive';
    throw new DocxTemplateError(`Invalid DOCX template: ${explanation}`, [
      { tag: null, id: err instanceof ZipLimitError ? 'zip_limits' : 'invalid_zip', explanation, part: null },
    ]);
  }
}

function compile(zip: PizZip, onTag?: (tag: string) => void): Docxtemplater<PizZip> {
  try {
    return new Docxtemplater(zip, {
      delimiters: { start: '{{', end: '}}' },
      paragraphLoop: true,
      linebreaks: true,
      // A mask the author left empty renders as nothing rather than "undefined".
      nullGetter: () => '',
      parser: (tag: string, meta?: unknown) => {
        const part = (meta as { tag?: { module?: string } } | undefined)?.tag;
        if (part?.module === 'rawxml') throw new Error('raw XML tags ({{@…}}) are not allowed');
        // `{{money document.sumKopecks}}`: a value tag may name one helper, as in an HTML template.
        const words = tag.trim().split(/\s+/);
        const helper = !part?.module && words.length === 2 && isDocxHelper(words[0]!) ? TEMPLATE_HELPERS[words[0]] : null;
        const path = helper ? words[1]! : tag.trim();
        if (onTag && path !== '.') onTag(path);
        return {
          get: (scope: unknown) => {
            if (filling && (filling.timedOut || performance.now() > filling.deadline)) return void (filling.timedOut = true);
            const value = lookup(scope, path);
            return helper ? helper(value) : value;
          },
        };
      },
      stripInvalidXMLChars: true,
      // Errors are reported to the caller as DocxTemplateError, not printed by the library.
      errorLogging: false,
    });
  } catch (err) {
    throw toTemplateError(err);
  }
}

/**
 * `a.b.c` over own properties only: a mask named `constructor` or `__proto__` must not
 * reach Object.prototype, and functions are never called (docxtemplater would call them).
 */
function lookup(scope: unknown, path: string): unknown {
  if (path === '.') return scope;
  let value: unknown = scope;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'function' ? undefined : value;
}

interface XtError {
  name?: string;
  message?: string;
  properties?: {
    id?: string;
    xtag?: string;
    explanation?: string;
    file?: string;
    errors?: XtError[];
    rootError?: { message?: string };
  };
}

function toTemplateError(err: unknown): Error {
  if (err instanceof DocxTemplateError) return err;
  const e = err as XtError;
  if (!e?.properties) {
    // Not a docxtemplater error: an unreadable package (no word/document.xml, bad XML...).
    const explanation = e?.message ?? String(err);
    return new DocxTemplateError(`Invalid DOCX template: ${explanation}`, [{ tag: null, id: 'invalid_docx', explanation, part: null }]);
  }
  const list = e.properties.id === 'multi_error' && e.properties.errors ? e.properties.errors : [e];
  const issues = list.map((x): DocxTemplateIssue => {
    const p = x.properties ?? {};
    const root = p.rootError?.message;
    // For unclosed tags docxtemplater keeps a stray brace of our two-character delimiter.
    const tag = p.xtag === undefined ? undefined : trimBraces(p.xtag);
    return {
      tag: tag || null,
      id: p.id ?? 'template_error',
      explanation: root ? `${p.explanation ?? x.message ?? ''}: ${root}` : (p.explanation ?? x.message ?? 'template error'),
      part: p.file ?? null,
    };
  });
  const summary = issues.map((i) => i.explanation).join('; ');
  return new DocxTemplateError(`DOCX template error: ${summary}`, issues);
}

/**
 * A tag without the braces and white space around it, by index (a pattern `[}\s]+$` tried every
 * run of spaces to the end: an unclosed `{{#a` with 100,000 spaces held a render for seconds).
 */
function trimBraces(tag: string): string {
  let from = 0;
  let to = tag.length;
  while (from < to && (tag[from] === '{' || /\s/.test(tag[from]!))) from++;
  while (to > from && (tag[to - 1] === '}' || /\s/.test(tag[to - 1]!))) to--;
  return tag.slice(from, to);
}

// ---------------------------------------------------------------------------------------
// External relationships

const RELS_NS = [
  'http://schemas.openxmlformats.org/officeDocument/2006/relationships',
  'http://purl.oclc.org/ooxml/officeDocument/relationships',
];

/**
 * `<Relationship …/>` or `<Relationship …>…</Relationship>`, any prefix; attribute values may
 * hold ">" (not "<", which XML forbids there). Linear in the part's length whatever it holds:
 * the attributes are matched once (a lookahead and its backreference, JavaScript's atomic
 * group), a value or a body stops at the next tag or Relationship. Before, a part of unclosed
 * `<Relationship Id="a">` tags scanned to its end from every one of them (its square: a 60 KB
 * upload held the documents service for hours).
 */
const RELATIONSHIP_RE =
  /<((?:[A-Za-z_][\w.-]*:)?Relationship)(?=((?:\s+[^\s=/>]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*))\2\s*(?:\/>|>(?:[^<]|<(?!\/?(?:[A-Za-z_][\w.-]*:)?Relationship[\s>/]))*?<\/\1\s*>)/g;
const ATTRIBUTE_RE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function decodeXmlEntities(value: string): string {
  // Decoded before comparing so that TargetMode="&#69;xternal" does not slip through.
  return value.replace(/&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));/g, (m, dec, hex, named) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[named as string] ?? m;
  });
}

function attributes(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of raw.matchAll(ATTRIBUTE_RE)) {
    const local = m[1].includes(':') ? m[1].slice(m[1].indexOf(':') + 1) : m[1];
    out.set(local, decodeXmlEntities(m[2] ?? m[3] ?? '').trim());
  }
  return out;
}

/**
 * External means TargetMode other than Internal, and also an "internal" target written as an
 * absolute URL or a UNC path, which no consumer should resolve inside the package anyway.
 */
function isExternal(attrs: Map<string, string>): boolean {
  const mode = attrs.get('TargetMode');
  if (mode !== undefined && mode.toLowerCase() !== 'internal') return true;
  const target = attrs.get('Target') ?? '';
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//') || target.startsWith('\\\\');
}

/** XML parts may legally be UTF-16; a regex over mis-decoded text would miss everything. */
function readXmlPart(bytes: Buffer): { text: string; utf16: boolean } {
  const le = bytes[0] === 0xff && bytes[1] === 0xfe;
  const be = bytes[0] === 0xfe && bytes[1] === 0xff;
  const nulAt = bytes.indexOf(0);
  if (le || be || (nulAt >= 0 && nulAt < 4)) {
    const bigEndian = be || (!le && bytes[0] === 0);
    const body = le || be ? bytes.subarray(2) : bytes;
    const text = new TextDecoder(bigEndian ? 'utf-16be' : 'utf-16le').decode(body);
    // Anchored: a declaration is only ever at the start (unanchored, `<?xml` repeated made it
    // try every one of them to the end of the part, the square of its length).
    return { text: text.replace(/^(\uFEFF?\s*<\?xml[^>]*encoding\s*=\s*)(["'])[^"']*\2/i, '$1$2UTF-8$2'), utf16: true };
  }
  const text = bytes.toString('utf8');
  return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, utf16: false };
}

function sourcePartOf(relsPath: string): string | null {
  const m = /^(.*?)_rels\/([^/]*)\.rels$/i.exec(relsPath);
  return m && m[2] ? `${m[1]}${m[2]}` : null;
}

/**
 * Drops references to removed relationships from the part that owned them, so Word does not
 * report the filled file as damaged: `<w:hyperlink r:id="rId9">` keeps its text, an image
 * linked with `r:link` keeps its frame.
 */
function scrubReferences(xml: string, ids: Set<string>): string {
  const prefixes = [...xml.matchAll(/xmlns:([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)]
    .filter((m) => RELS_NS.includes(m[2] ?? m[3] ?? ''))
    .map((m) => m[1]);
  if (prefixes.length === 0) return xml;
  const re = new RegExp(`\\s(?:${prefixes.map((p) => p.replace(/\./g, '\\.')).join('|')}):[\\w.-]+\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g');
  return xml.replace(re, (m, d: string | undefined, s: string | undefined) =>
    ids.has(decodeXmlEntities(d ?? s ?? '').trim()) ? '' : m,
  );
}

/**
 * Removes every external relationship from every `.rels` part, so neither LibreOffice nor
 * Word fetches remote images, templates (attachedTemplate), frames, OLE links or subdocuments
 * when the file is opened or converted. Returns how many were removed.
 */
export function stripExternalRelationships(zip: PizZip): number {
  let removed = 0;
  for (const name of Object.keys(zip.files)) {
    const entry = zip.files[name];
    if (entry.dir || !/\.rels$/i.test(name)) continue;
    const { text, utf16 } = readXmlPart(entry.asNodeBuffer());
    const ids = new Set<string>();
    const cleaned = text.replace(RELATIONSHIP_RE, (whole, _tag: string, rawAttrs: string) => {
      const attrs = attributes(rawAttrs);
      if (!isExternal(attrs)) return whole;
      const id = attrs.get('Id');
      if (id) ids.add(id);
      removed++;
      return '';
    });
    if (cleaned === text && !utf16) continue;
    zip.file(name, cleaned);
    const source = sourcePartOf(name);
    const owner = source ? zip.files[source] : undefined;
    if (ids.size > 0 && owner && !owner.dir) {
      const part = readXmlPart(owner.asNodeBuffer());
      const scrubbed = scrubReferences(part.text, ids);
      if (scrubbed !== part.text || part.utf16) zip.file(source as string, scrubbed);
    }
  }
  return removed;
}
