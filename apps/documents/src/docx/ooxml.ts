import PizZip from 'pizzip';

/**
 * A deliberately small WordprocessingML writer: enough for the blank forms shipped in
 * assets/ready and for test fixtures, without pulling a DOCX authoring library into the
 * runtime. Everything it emits opens in Word and LibreOffice (A4, Times New Roman 12 pt,
 * which LibreOffice maps to the metric-compatible Liberation Serif).
 */

export const NS_W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
export const NS_R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
export const REL_HYPERLINK = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink';
export const REL_IMAGE = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/image';
const REL_DOCUMENT = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument';
const REL_STYLES = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles';
const REL_CORE = 'http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export interface RunOptions {
  bold?: boolean;
  italic?: boolean;
  underline?: boolean;
  /** Font size in points. */
  size?: number;
}

export interface Run extends RunOptions {
  text: string;
}

export interface ParagraphOptions {
  align?: 'left' | 'center' | 'right' | 'both';
  /** Space after the paragraph in points. */
  after?: number;
  /** First-line indent in centimetres (Russian business letters indent 1.25 cm). */
  indent?: number;
  keepNext?: boolean;
}

const TWIPS_PER_PT = 20;
const TWIPS_PER_CM = 567;

function runProps(o: RunOptions): string {
  const props = [
    o.bold ? '<w:b/>' : '',
    o.italic ? '<w:i/>' : '',
    o.underline ? '<w:u w:val="single"/>' : '',
    o.size ? `<w:sz w:val="${Math.round(o.size * 2)}"/><w:szCs w:val="${Math.round(o.size * 2)}"/>` : '',
  ].join('');
  return props ? `<w:rPr>${props}</w:rPr>` : '';
}

/** One run; xml:space="preserve" because the blanks and indents are made of spaces. */
export function run(text: string, o: RunOptions = {}): string {
  return `<w:r>${runProps(o)}<w:t xml:space="preserve">${escapeXml(text)}</w:t></w:r>`;
}

export function paragraph(content: string | Run | Run[], o: ParagraphOptions = {}): string {
  const runs = typeof content === 'string' ? [{ text: content }] : Array.isArray(content) ? content : [content];
  const pPr = [
    o.keepNext ? '<w:keepNext/>' : '',
    o.after !== undefined ? `<w:spacing w:after="${Math.round(o.after * TWIPS_PER_PT)}"/>` : '',
    o.indent ? `<w:ind w:firstLine="${Math.round(o.indent * TWIPS_PER_CM)}"/>` : '',
    o.align ? `<w:jc w:val="${o.align}"/>` : '',
  ].join('');
  return `<w:p>${pPr ? `<w:pPr>${pPr}</w:pPr>` : ''}${runs.map((r) => run(r.text, r)).join('')}</w:p>`;
}

export interface TableOptions {
  /** Column widths in centimetres; they should add up to the text width (17 cm on A4 with our margins). */
  widths: number[];
  /** Bold first row, repeated on every page. */
  header?: boolean;
  borders?: boolean;
  /** Paragraph alignment per column. */
  align?: ReadonlyArray<ParagraphOptions['align']>;
}

export function table(rows: ReadonlyArray<ReadonlyArray<string | Run>>, o: TableOptions): string {
  const border = o.borders === false ? 'nil' : 'single';
  const borders = ['top', 'left', 'bottom', 'right', 'insideH', 'insideV']
    .map((side) => `<w:${side} w:val="${border}" w:sz="4" w:space="0" w:color="000000"/>`)
    .join('');
  const grid = o.widths.map((w) => `<w:gridCol w:w="${Math.round(w * TWIPS_PER_CM)}"/>`).join('');
  const body = rows
    .map((cells, rowIndex) => {
      const isHeader = o.header === true && rowIndex === 0;
      const trPr = isHeader ? '<w:trPr><w:tblHeader/></w:trPr>' : '';
      const tcs = cells
        .map((cell, i) => {
          const r: Run = typeof cell === 'string' ? { text: cell, bold: isHeader } : cell;
          const width = Math.round((o.widths[i] ?? o.widths[o.widths.length - 1]) * TWIPS_PER_CM);
          return `<w:tc><w:tcPr><w:tcW w:w="${width}" w:type="dxa"/></w:tcPr>${paragraph(r, { after: 0, align: o.align?.[i] })}</w:tc>`;
        })
        .join('');
      return `<w:tr>${trPr}${tcs}</w:tr>`;
    })
    .join('');
  return (
    `<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/><w:tblBorders>${borders}</w:tblBorders>` +
    `<w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="85" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>` +
    `</w:tblPr><w:tblGrid>${grid}</w:tblGrid>${body}</w:tbl>`
  );
}

export interface PackageRelationship {
  id: string;
  type: string;
  target: string;
  external?: boolean;
}

export interface DocxPackage {
  /** The inside of <w:body>, without the section properties (those are added). */
  body: string;
  title?: string;
  /** Extra relationships of word/document.xml (hyperlinks, images); ids must not start with "rIdStyles". */
  relationships?: PackageRelationship[];
  /** Extra parts (path -> content), e.g. media; content types for png/jpeg are declared by default. */
  parts?: Record<string, string | Buffer>;
}

function relationshipsXml(rels: PackageRelationship[]): string {
  const items = rels
    .map(
      (r) =>
        `<Relationship Id="${escapeXml(r.id)}" Type="${escapeXml(r.type)}" Target="${escapeXml(r.target)}"` +
        `${r.external ? ' TargetMode="External"' : ''}/>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${items}</Relationships>`;
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Default Extension="png" ContentType="image/png"/>' +
  '<Default Extension="jpeg" ContentType="image/jpeg"/>' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
  '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>' +
  '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>' +
  '</Types>';

const STYLES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  `<w:styles xmlns:w="${NS_W}"><w:docDefaults><w:rPrDefault><w:rPr>` +
  '<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="Times New Roman" w:cs="Times New Roman"/>' +
  '<w:sz w:val="24"/><w:szCs w:val="24"/><w:lang w:val="ru-RU" w:eastAsia="en-US" w:bidi="ar-SA"/>' +
  '</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="240" w:lineRule="auto"/></w:pPr></w:pPrDefault>' +
  '</w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>' +
  '</w:styles>';

/** A4 portrait, 2 cm margins left/right -> 17 cm of text width. */
const SECTION =
  '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>' +
  '<w:pgMar w:top="1134" w:right="850" w:bottom="1134" w:left="1701" w:header="709" w:footer="709" w:gutter="0"/></w:sectPr>';

function coreXml(title: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ' +
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" ' +
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<dc:title>${escapeXml(title)}</dc:title><dc:creator>Папка</dc:creator><dc:language>ru-RU</dc:language>` +
    '</cp:coreProperties>'
  );
}

/** The document.xml for a body, with the namespaces fixtures need (w, r, a/pic/wp for images). */
export function documentXml(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    `<w:document xmlns:w="${NS_W}" xmlns:r="${NS_R}" ` +
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" ' +
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" ' +
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">' +
    `<w:body>${body}${SECTION}</w:body></w:document>`
  );
}

/**
 * Zips a package. A fixed date on every entry keeps the output byte-for-byte reproducible,
 * so regenerating the shipped forms does not churn git.
 */
export function buildDocx(pkg: DocxPackage): Buffer {
  const zip = new PizZip();
  const date = new Date('2025-01-01T00:00:00Z');
  const put = (name: string, data: string | Buffer) => zip.file(name, data, { date, createFolders: false });
  put('[Content_Types].xml', CONTENT_TYPES);
  put(
    '_rels/.rels',
    relationshipsXml([
      { id: 'rId1', type: REL_DOCUMENT, target: 'word/document.xml' },
      { id: 'rId2', type: REL_CORE, target: 'docProps/core.xml' },
    ]),
  );
  put('docProps/core.xml', coreXml(pkg.title ?? ''));
  put('word/document.xml', documentXml(pkg.body));
  put('word/styles.xml', STYLES);
  put(
    'word/_rels/document.xml.rels',
    relationshipsXml([{ id: 'rIdStyles', type: REL_STYLES, target: 'styles.xml' }, ...(pkg.relationships ?? [])]),
  );
  for (const [name, data] of Object.entries(pkg.parts ?? {})) put(name, data);
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}
