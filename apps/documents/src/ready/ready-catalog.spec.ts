import ExcelJS from 'exceljs';
import PizZip from 'pizzip';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { openReadyDocument, READY_ASSETS_DIR, READY_DOCUMENTS } from './ready-catalog';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function formulasOf(ws: ExcelJS.Worksheet): string[] {
  const out: string[] = [];
  ws.eachRow((row) => row.eachCell((cell) => cell.formula && out.push(cell.formula)));
  return out;
}

/** The visible text of a DOCX body. */
function docxText(buf: Buffer): string {
  const xml = new PizZip(buf).file('word/document.xml')?.asText() ?? '';
  return [...xml.matchAll(/<w:t[^>]*>([^<]*)<\/w:t>/g)].map((m) => m[1]).join('');
}

describe('ready documents catalog', () => {
  it('has unique ids and files, and the fields the API promises', () => {
    expect(READY_DOCUMENTS.length).toBeGreaterThanOrEqual(5);
    expect(new Set(READY_DOCUMENTS.map((d) => d.id)).size).toBe(READY_DOCUMENTS.length);
    expect(new Set(READY_DOCUMENTS.map((d) => d.file)).size).toBe(READY_DOCUMENTS.length);
    for (const d of READY_DOCUMENTS) {
      expect(Object.keys(d).sort()).toEqual(['createdAt', 'description', 'file', 'id', 'title', 'type']);
      expect(Number.isInteger(d.id)).toBe(true);
      expect(d.file).toMatch(/^[a-z0-9-]+\.(xlsx|docx)$/);
      expect(new Date(d.createdAt).toISOString()).toBe(d.createdAt);
    }
    expect(READY_DOCUMENTS[0]).toEqual({
      id: 1,
      type: 'Налоги',
      title: 'Шаблон для построения финансовой модели',
      description: 'Постройте финансовую модель для своего бизнеса по шаблону',
      file: 'shablon-finmodeli.xlsx',
      createdAt: '2025-09-25T10:46:41.000Z',
    });
  });

  it('is immutable', () => {
    expect(() => ((READY_DOCUMENTS as unknown as Array<{ title: string }>)[0].title = 'x')).toThrow();
  });

  it.each(READY_DOCUMENTS.filter((d) => d.file.endsWith('.xlsx')).map((d) => [d.file, d] as const))(
    '%s opens in exceljs with its formulas',
    async (_file, doc) => {
      const buf = readFileSync(join(READY_ASSETS_DIR, doc.file));
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(Uint8Array.from(buf).buffer);
      const ws = wb.worksheets[0];
      const formulas = formulasOf(ws);
      expect(formulas.length).toBeGreaterThan(10);
      expect(formulas.some((f) => f.startsWith('SUM('))).toBe(true);
      // No cached results are stored, so the file must ask Excel/LibreOffice to compute on open.
      expect(new PizZip(buf).file('xl/workbook.xml')?.asText()).toMatch(/<calcPr[^>]*fullCalcOnLoad="1"/);
    },
  );

  it('financial model: months as columns, totals, profit and margin, frozen header', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Uint8Array.from(readFileSync(join(READY_ASSETS_DIR, 'shablon-finmodeli.xlsx'))).buffer);
    const ws = wb.getWorksheet('Финмодель');
    if (!ws) throw new Error('no sheet');
    const labels = ws.getColumn(1).values.filter((v): v is string => typeof v === 'string');
    expect(labels).toEqual(expect.arrayContaining(['Выручка, итого', 'Расходы, итого', 'Чистая прибыль', 'Рентабельность по чистой прибыли']));
    expect(ws.views[0]).toMatchObject({ state: 'frozen', xSplit: 1 });
    const formulas = formulasOf(ws).join('\n');
    expect(formulas).toMatch(/EDATE\(\$B\$5,11\)/);
    expect(formulas).toMatch(/IFERROR\(N\d+\/N\d+,0\)/);
  });

  it.each(READY_DOCUMENTS.filter((d) => d.file.endsWith('.docx')).map((d) => [d.file, d] as const))(
    '%s is a DOCX whose text contains its title',
    (_file, doc) => {
      const buf = readFileSync(join(READY_ASSETS_DIR, doc.file));
      const zip = new PizZip(buf);
      expect(zip.file('[Content_Types].xml')).not.toBeNull();
      const text = docxText(buf);
      expect(text.toLowerCase()).toContain(doc.title.toLowerCase());
      expect(text).toContain('____');
    },
  );
});

describe('openReadyDocument', () => {
  it('streams the file with its name, type and size', async () => {
    const file = await openReadyDocument(3);
    if (!file) throw new Error('expected a file');
    expect(file.filename).toBe('dogovor-okazaniya-uslug.docx');
    expect(file.contentType).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    const bytes = await readAll(file.stream);
    expect(bytes.length).toBe(file.size);
    expect(bytes.equals(readFileSync(join(READY_ASSETS_DIR, file.filename)))).toBe(true);
  });

  it('gives the spreadsheet content type for XLSX', async () => {
    const file = await openReadyDocument(1);
    expect(file?.contentType).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    file?.stream.destroy();
  });

  it('returns null for an unknown id', async () => {
    expect(await openReadyDocument(0)).toBeNull();
    expect(await openReadyDocument(999)).toBeNull();
    expect(await openReadyDocument(Number.NaN)).toBeNull();
  });
});
