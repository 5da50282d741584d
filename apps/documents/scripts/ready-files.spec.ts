import ExcelJS from 'exceljs';
import PizZip from 'pizzip';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { READY_ASSETS_DIR, READY_DOCUMENTS } from '../src/ready/ready-catalog';
import { READY_BUILDERS } from './ready-files';

/** Entry name -> content: compares archives without caring how they were compressed. */
function entries(buf: Buffer): Record<string, string> {
  const zip = new PizZip(buf);
  return Object.fromEntries(Object.keys(zip.files).filter((n) => !zip.files[n].dir).map((n) => [n, zip.files[n].asBinary()]));
}

describe('ready documents generator', () => {
  it('shipped files are what the generator produces (run generate-ready.ts after changing a builder)', async () => {
    for (const doc of READY_DOCUMENTS) {
      const built = await READY_BUILDERS[doc.file]();
      expect({ file: doc.file, entries: entries(readFileSync(join(READY_ASSETS_DIR, doc.file))) }).toEqual({
        file: doc.file,
        entries: entries(built),
      });
    }
  });

  it("makes the invoice workbook say «Без НДС» when its VAT rate is cleared, not «НДС 0,00» (an exporter's 0 %)", async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await READY_BUILDERS['schet-na-oplatu.xlsx']()) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    const formulas: string[] = [];
    ws.eachRow((row) => row.eachCell((cell) => {
      const v = cell.value as { formula?: string } | null;
      if (v && typeof v === 'object' && typeof v.formula === 'string') formulas.push(v.formula);
    }));
    const label = formulas.find((f) => f.includes('"Без НДС"'));
    expect(label).toMatch(/^IF\(ISBLANK\(\$C\$(\d+)\),"Без НДС","В том числе НДС:"\)$/);
    const rateCell = `C${/\$C\$(\d+)/.exec(label!)![1]}`;
    expect(formulas).toContainEqual(expect.stringMatching(new RegExp(`^IF\\(ISBLANK\\(\\$C\\$${rateCell.slice(1)}\\),"",ROUND\\(`)));
    expect(ws.getCell(rateCell).value).toBe(0.22);
  });
});

