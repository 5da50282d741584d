import ExcelJS from 'exceljs';
import PizZip from 'pizzip';
import { buildDocx, paragraph, type Run, table } from '../src/docx/ooxml';

/**
 * Builders of the files in assets/ready. Build-time code: only generate-ready.ts and its test
 * call them (so exceljs is a devDependency); the service streams the generated files and never
 * builds anything on a request.
 *
 * Spreadsheet amounts are rubles (these are files for people to fill in Excel), unlike the
 * service's own integer kopecks.
 */

const FIXED_DATE = new Date('2025-09-25T10:00:00Z');
const BLANK = '____________';
const LONG_BLANK = '________________________________';

// ---------------------------------------------------------------------------------------
// Spreadsheets

const FILL = (argb: string): ExcelJS.Fill => ({ type: 'pattern', pattern: 'solid', fgColor: { argb } });
const HEADER_FILL = FILL('FF1F4E79');
const SECTION_FILL = FILL('FFD9E1F2');
const INPUT_FILL = FILL('FFFFF2CC');
const TOTAL_FILL = FILL('FFF2F2F2');
const THIN: Partial<ExcelJS.Border> = { style: 'thin', color: { argb: 'FFBFBFBF' } };
const BOX: Partial<ExcelJS.Borders> = { top: THIN, left: THIN, bottom: THIN, right: THIN };
const RUB = '#,##0 "₽";[Red]-#,##0 "₽"';
const RUB_KOP = '#,##0.00';
const PERCENT = '0.0%';
const MONTHS = 12;

function newWorkbook(): ExcelJS.Workbook {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Папка';
  wb.lastModifiedBy = 'Папка';
  wb.created = FIXED_DATE;
  wb.modified = FIXED_DATE;
  // Formulas are written without cached results; this makes Excel and LibreOffice compute them on open.
  wb.calcProperties.fullCalcOnLoad = true;
  return wb;
}

/** Column letter of month i (0-based): months start in column B. */
const monthCol = (i: number) => String.fromCharCode('B'.charCodeAt(0) + i);
const YEAR_COL = monthCol(MONTHS);

/**
 * exceljs stamps the current time on every zip entry; rewriting the archive with a fixed
 * date keeps regenerated files identical when nothing changed.
 */
function reproducibleZip(buf: Buffer): Buffer {
  const src = new PizZip(buf);
  const out = new PizZip();
  for (const name of Object.keys(src.files)) {
    const f = src.files[name];
    if (!f.dir) out.file(name, f.asNodeBuffer(), { date: FIXED_DATE, createFolders: false });
  }
  return out.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}

async function xlsxBuffer(wb: ExcelJS.Workbook): Promise<Buffer> {
  return reproducibleZip(Buffer.from(await wb.xlsx.writeBuffer()));
}

interface MonthlySheet {
  ws: ExcelJS.Worksheet;
  /** Adds a row; `cells(col, row)` gives each month's value. */
  row(label: string, cells: (col: string, i: number, row: number) => ExcelJS.CellValue, opts?: RowOptions): number;
  section(label: string): void;
}

interface RowOptions {
  total?: boolean;
  /** Year column: 'sum' of the months (default), 'last' month, 'first' month, or a formula. */
  year?: 'sum' | 'last' | 'first' | ((row: number) => string) | null;
  /** Months whose cells are for the user to fill (yellow). */
  input?: (i: number) => boolean;
  numFmt?: string;
}

function monthlySheet(wb: ExcelJS.Workbook, name: string, title: string, note: string, startCell: string, headerRow: number): MonthlySheet {
  const ws = wb.addWorksheet(name, {
    views: [{ state: 'frozen', xSplit: 1, ySplit: headerRow, showGridLines: false }],
    pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
  });
  ws.getColumn(1).width = 44;
  for (let i = 0; i <= MONTHS; i++) ws.getColumn(i + 2).width = 14;
  ws.mergeCells(`A1:${YEAR_COL}1`);
  Object.assign(ws.getCell('A1'), { value: title, font: { bold: true, size: 14 } });
  ws.mergeCells(`A2:${YEAR_COL}2`);
  Object.assign(ws.getCell('A2'), { value: note, font: { italic: true, color: { argb: 'FF595959' } } });

  const header = ws.getRow(headerRow);
  header.getCell(1).value = 'Статья';
  for (let i = 0; i < MONTHS; i++) {
    // Month headers follow the start date the user enters, so the model can begin any month.
    const cell = header.getCell(i + 2);
    cell.value = { formula: `EDATE(${startCell},${i})` };
    cell.numFmt = 'mmm yyyy';
  }
  header.getCell(MONTHS + 2).value = 'Итого за год';
  header.height = 20;
  header.eachCell((cell) => {
    cell.fill = HEADER_FILL;
    cell.font = { bold: true, color: { argb: 'FFFFFFFF' } };
    cell.alignment = { horizontal: 'center', vertical: 'middle' };
    cell.border = BOX;
  });

  let next = headerRow + 1;
  return {
    ws,
    section(label) {
      const r = ws.getRow(next++);
      r.getCell(1).value = label;
      for (let c = 1; c <= MONTHS + 2; c++) {
        r.getCell(c).fill = SECTION_FILL;
        r.getCell(c).font = { bold: true };
      }
    },
    row(label, cells, opts = {}) {
      const n = next++;
      const r = ws.getRow(n);
      r.getCell(1).value = label;
      for (let i = 0; i < MONTHS; i++) {
        const cell = r.getCell(i + 2);
        cell.value = cells(monthCol(i), i, n);
        if (opts.input?.(i)) cell.fill = INPUT_FILL;
      }
      const year = opts.year === undefined ? 'sum' : opts.year;
      if (year !== null) {
        r.getCell(MONTHS + 2).value = {
          formula:
            year === 'sum' ? `SUM(B${n}:${monthCol(MONTHS - 1)}${n})`
            : year === 'last' ? `${monthCol(MONTHS - 1)}${n}`
            : year === 'first' ? `B${n}`
            : year(n),
        };
      }
      for (let c = 1; c <= MONTHS + 2; c++) {
        const cell = r.getCell(c);
        cell.border = BOX;
        if (c > 1) cell.numFmt = opts.numFmt ?? RUB;
        if (opts.total) {
          cell.font = { bold: true };
          if (!opts.input?.(c - 2)) cell.fill = TOTAL_FILL;
        }
      }
      r.getCell(MONTHS + 2).font = { bold: true };
      return n;
    },
  };
}

function assumption(ws: ExcelJS.Worksheet, row: number, label: string, value: ExcelJS.CellValue, numFmt: string): string {
  ws.getCell(`A${row}`).value = label;
  const cell = ws.getCell(`B${row}`);
  Object.assign(cell, { value, numFmt, fill: INPUT_FILL, border: BOX, alignment: { horizontal: 'right' } });
  return `$B$${row}`;
}

const growWith = (rate: string) => (col: string, i: number, row: number): ExcelJS.CellValue =>
  i === 0 ? null : { formula: `ROUND(${monthCol(i - 1)}${row}*(1+${rate}),0)` };
const carry = (col: string, i: number, row: number): ExcelJS.CellValue => (i === 0 ? null : { formula: `${monthCol(i - 1)}${row}` });
const first = (i: number) => i === 0;

/** 12-month P&L: revenue grows by a monthly rate, costs carry over, tax, net profit, margin. */
export async function buildFinancialModel(): Promise<Buffer> {
  const wb = newWorkbook();
  const m = monthlySheet(
    wb,
    'Финмодель',
    'Финансовая модель на 12 месяцев',
    'Заполните жёлтые ячейки: допущения и суммы первого месяца. Остальное считается формулами; суммы в рублях.',
    '$B$5',
    12,
  );
  const { ws } = m;
  Object.assign(ws.getCell('A4'), { value: 'Допущения', font: { bold: true } });
  assumption(ws, 5, 'Первый месяц модели', new Date('2026-01-01T00:00:00Z'), 'dd.mm.yyyy');
  const growth = assumption(ws, 6, 'Рост выручки в месяц', 0.05, PERCENT);
  const cogsRate = assumption(ws, 7, 'Себестоимость, % от выручки', 0.4, PERCENT);
  const contribRate = assumption(ws, 8, 'Страховые взносы, % от фонда оплаты труда', 0.3, PERCENT);
  const taxRate = assumption(ws, 9, 'Налог (УСН «Доходы»), % от выручки', 0.06, PERCENT);
  ws.getColumn(2).width = 14;

  m.section('Выручка');
  const goods = m.row('Продажа товаров', (c, i, r) => (i === 0 ? 500_000 : growWith(growth)(c, i, r)), { input: first });
  m.row('Оказание услуг', (c, i, r) => (i === 0 ? 200_000 : growWith(growth)(c, i, r)), { input: first });
  const otherIncome = m.row('Прочие доходы', () => 0, { input: () => true });
  const revenue = m.row('Выручка, итого', (c) => ({ formula: `SUM(${c}${goods}:${c}${otherIncome})` }), { total: true });

  m.section('Расходы');
  const cogs = m.row('Себестоимость', (c) => ({ formula: `ROUND(${c}${revenue}*${cogsRate},0)` }));
  const payroll = m.row('Фонд оплаты труда', (c, i, r) => (i === 0 ? 150_000 : carry(c, i, r)), { input: first });
  m.row('Страховые взносы', (c) => ({ formula: `ROUND(${c}${payroll}*${contribRate},0)` }));
  m.row('Аренда', (c, i, r) => (i === 0 ? 60_000 : carry(c, i, r)), { input: first });
  m.row('Маркетинг и реклама', (c, i, r) => (i === 0 ? 40_000 : carry(c, i, r)), { input: first });
  const otherCosts = m.row('Прочие расходы', (c, i, r) => (i === 0 ? 20_000 : carry(c, i, r)), { input: first });
  const costs = m.row('Расходы, итого', (c) => ({ formula: `SUM(${c}${cogs}:${c}${otherCosts})` }), { total: true });

  m.section('Результат');
  const ebt = m.row('Прибыль до налогообложения', (c) => ({ formula: `${c}${revenue}-${c}${costs}` }), { total: true });
  const tax = m.row('Налог', (c) => ({ formula: `ROUND(${c}${revenue}*${taxRate},0)` }));
  const net = m.row('Чистая прибыль', (c) => ({ formula: `${c}${ebt}-${c}${tax}` }), { total: true });
  m.row('Рентабельность по чистой прибыли', (c) => ({ formula: `IFERROR(${c}${net}/${c}${revenue},0)` }), {
    numFmt: PERCENT,
    year: () => `IFERROR(${YEAR_COL}${net}/${YEAR_COL}${revenue},0)`,
  });
  m.row('Накопленная чистая прибыль', (c, i, r) => ({ formula: i === 0 ? `${c}${net}` : `${monthCol(i - 1)}${r}+${c}${net}` }), { year: 'last' });
  return xlsxBuffer(wb);
}

/** Cash flow (ДДС): opening balance, receipts and payments by item, closing balance per month. */
export async function buildCashFlow(): Promise<Buffer> {
  const wb = newWorkbook();
  const m = monthlySheet(
    wb,
    'ДДС',
    'Отчёт о движении денежных средств (ДДС)',
    'Укажите первый месяц, остаток на его начало и суммы по статьям (жёлтые ячейки); итоги и остатки считаются формулами.',
    '$B$4',
    7,
  );
  const { ws } = m;
  assumption(ws, 4, 'Первый месяц', new Date('2026-01-01T00:00:00Z'), 'dd.mm.yyyy');
  const opening = assumption(ws, 5, 'Остаток денежных средств на начало', 0, RUB);

  // Later months open with the previous month's closing balance, filled in once that row exists.
  const openingRow = m.row('Остаток на начало месяца', (c, i) => (i === 0 ? { formula: opening } : null), {
    total: true,
    year: 'first',
  });
  m.section('Поступления');
  const inFirst = m.row('Оплата от покупателей и заказчиков', () => null, { input: () => true });
  m.row('Авансы полученные', () => null, { input: () => true });
  m.row('Кредиты и займы полученные', () => null, { input: () => true });
  const inLast = m.row('Прочие поступления', () => null, { input: () => true });
  const receipts = m.row('Поступления, итого', (c) => ({ formula: `SUM(${c}${inFirst}:${c}${inLast})` }), { total: true });
  m.section('Выплаты');
  const outFirst = m.row('Оплата поставщикам и подрядчикам', () => null, { input: () => true });
  m.row('Заработная плата', () => null, { input: () => true });
  m.row('Налоги и страховые взносы', () => null, { input: () => true });
  m.row('Аренда', () => null, { input: () => true });
  m.row('Проценты и погашение кредитов', () => null, { input: () => true });
  const outLast = m.row('Прочие выплаты', () => null, { input: () => true });
  const payments = m.row('Выплаты, итого', (c) => ({ formula: `SUM(${c}${outFirst}:${c}${outLast})` }), { total: true });
  const flow = m.row('Чистый денежный поток', (c) => ({ formula: `${c}${receipts}-${c}${payments}` }), { total: true });
  const closing = m.row('Остаток на конец месяца', (c) => ({ formula: `${c}${openingRow}+${c}${flow}` }), { total: true, year: 'last' });

  for (let i = 1; i < MONTHS; i++) ws.getCell(`${monthCol(i)}${openingRow}`).value = { formula: `${monthCol(i - 1)}${closing}` };
  return xlsxBuffer(wb);
}

/** A classic Russian invoice: payee's bank details, lines with amounts, total, VAT included, in words. */
export async function buildInvoice(): Promise<Buffer> {
  const wb = newWorkbook();
  const ws = wb.addWorksheet('Счёт', {
    views: [{ showGridLines: false }],
    pageSetup: {
      paperSize: 9,
      orientation: 'portrait',
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      margins: { left: 0.6, right: 0.4, top: 0.6, bottom: 0.6, header: 0.3, footer: 0.3 },
    },
  });
  [6, 46, 10, 8, 14, 16].forEach((w, i) => (ws.getColumn(i + 1).width = w));
  const merged = (range: string, value: ExcelJS.CellValue, style: Partial<ExcelJS.Style> = {}) => {
    ws.mergeCells(range);
    Object.assign(ws.getCell(range.split(':')[0]), { value, ...style });
  };
  const field = (row: number, label: string) => {
    merged(`A${row}:B${row}`, label, { font: { bold: true } });
    merged(`C${row}:F${row}`, null, { fill: INPUT_FILL, border: BOX });
  };

  merged('A1:F1', 'Внимание! Оплата данного счёта означает согласие с условиями поставки товара (оказания услуг).', {
    font: { italic: true, size: 9 },
  });
  merged('A3:F3', 'Образец заполнения платёжного поручения', { font: { bold: true } });
  field(4, 'Получатель');
  field(5, 'ИНН / КПП получателя');
  field(6, 'Банк получателя');
  field(7, 'БИК');
  field(8, 'Корреспондентский счёт');
  field(9, 'Расчётный счёт');

  merged('A11:F11', `Счёт на оплату № ${BLANK} от «___» ${BLANK} 20___ г.`, { font: { bold: true, size: 14 } });
  ws.getRow(11).height = 24;
  field(13, 'Поставщик (исполнитель)');
  field(14, 'Покупатель (заказчик)');
  field(15, 'Основание');

  const head = 17;
  const first = head + 1;
  const last = head + 10;
  ['№', 'Товары (работы, услуги)', 'Кол-во', 'Ед.', 'Цена', 'Сумма'].forEach((h, i) => {
    Object.assign(ws.getRow(head).getCell(i + 1), {
      value: h,
      font: { bold: true },
      fill: SECTION_FILL,
      border: BOX,
      alignment: { horizontal: 'center', vertical: 'middle' },
    });
  });
  for (let r = first; r <= last; r++) {
    const row = ws.getRow(r);
    // Numbered and priced only once the line is filled in, so the blank form prints clean.
    row.getCell(1).value = { formula: `IF(B${r}="","",ROW()-${head})` };
    row.getCell(6).value = { formula: `IF(OR(C${r}="",E${r}=""),"",ROUND(C${r}*E${r},2))` };
    for (let c = 1; c <= 6; c++) {
      const cell = row.getCell(c);
      cell.border = BOX;
      if (c >= 2 && c <= 5) cell.fill = INPUT_FILL;
      if (c === 3) cell.numFmt = '#,##0.###';
      if (c >= 5) cell.numFmt = RUB_KOP;
      cell.alignment = { vertical: 'top', wrapText: c === 2, horizontal: c === 1 || c === 4 ? 'center' : undefined };
    }
  }

  const total = last + 1;
  const vat = last + 2;
  const due = last + 3;
  const rateRow = last + 8;
  // A seller that pays no VAT (УСН) clears the rate: the row then says «Без НДС» (НК ст. 168 п. 5),
  // not «НДС: 0,00», which is the 0 % rate of an exporter, a VAT payer.
  const noVat = `ISBLANK($C$${rateRow})`;
  const summary: Array<[number, ExcelJS.CellValue, string]> = [
    [total, 'Итого:', `SUM(F${first}:F${last})`],
    [vat, { formula: `IF(${noVat},"Без НДС","В том числе НДС:")` }, `IF(${noVat},"",ROUND(F${total}*$C$${rateRow}/(1+$C$${rateRow}),2))`],
    [due, 'Всего к оплате:', `F${total}`],
  ];
  for (const [r, label, formula] of summary) {
    merged(`C${r}:E${r}`, label, { font: { bold: true }, alignment: { horizontal: 'right' } });
    Object.assign(ws.getCell(`F${r}`), { value: { formula }, numFmt: RUB_KOP, font: { bold: true }, border: BOX });
  }
  merged(`A${due + 2}:F${due + 2}`, {
    formula: `"Всего наименований "&COUNT(A${first}:A${last})&", на сумму "&FIXED(F${due},2)&" руб."`,
  });
  merged(`A${due + 3}:F${due + 3}`, `Сумма прописью: ${LONG_BLANK}${LONG_BLANK}`, { font: { bold: true } });
  merged(`A${rateRow}:B${rateRow}`, 'Ставка НДС (не плательщик НДС: очистите ячейку, счёт будет «Без НДС»)', { font: { italic: true } });
  Object.assign(ws.getCell(`C${rateRow}`), { value: 0.22, numFmt: '0%', fill: INPUT_FILL, border: BOX });

  const sign = rateRow + 2;
  merged(`A${sign}:B${sign}`, `Руководитель ${BLANK} / ${BLANK} /`);
  merged(`C${sign}:F${sign}`, `Бухгалтер ${BLANK} / ${BLANK} /`);
  merged(`A${sign + 1}:B${sign + 1}`, 'М. П.', { font: { size: 9 } });
  return xlsxBuffer(wb);
}

// ---------------------------------------------------------------------------------------
// DOCX forms

const h = (text: string) => paragraph({ text, bold: true, size: 14 }, { align: 'center', after: 6, keepNext: true });
const sub = (text: string) => paragraph({ text, bold: true }, { align: 'center', after: 6, keepNext: true });
// Justifying a line full of blanks stretches its words apart, so such paragraphs stay ragged-right.
const p = (text: string) => paragraph(text, { align: text.includes('___') ? 'left' : 'both', indent: 1.25, after: 4 });
const line = (text: string) => paragraph(text, { after: 4 });
const gap = () => paragraph('', { after: 0 });
const placeAndDate = () =>
  table([[`г. ${BLANK}`, `«___» ${BLANK} 20___ г.`]], { widths: [8.5, 8.5], borders: false, align: ['left', 'right'] });

/** Two columns of party details with signature lines. */
function partiesTable(left: string, right: string): string {
  const rows: Array<[string | Run, string | Run]> = [
    [{ text: left, bold: true }, { text: right, bold: true }],
    ...['Наименование', 'ИНН / КПП', 'ОГРН (ОГРНИП)', 'Адрес', 'Расчётный счёт', 'Банк', 'БИК', 'Корр. счёт'].map(
      (label): [string, string] => [`${label}: ${BLANK}`, `${label}: ${BLANK}`],
    ),
    [`${BLANK} / ${BLANK} /`, `${BLANK} / ${BLANK} /`],
    [{ text: 'подпись, М. П.', size: 9 }, { text: 'подпись, М. П.', size: 9 }],
  ];
  return table(rows, { widths: [8.5, 8.5], borders: false });
}

export function buildServiceContract(): Buffer {
  const body = [
    h(`ДОГОВОР ОКАЗАНИЯ УСЛУГ № ${BLANK}`),
    placeAndDate(),
    gap(),
    p(
      `${LONG_BLANK}, именуемое в дальнейшем «Заказчик», в лице ${LONG_BLANK}, действующего на основании ${BLANK}, ` +
        `с одной стороны, и ${LONG_BLANK}, именуемое в дальнейшем «Исполнитель», в лице ${LONG_BLANK}, действующего на основании ${BLANK}, ` +
        'с другой стороны, вместе именуемые «Стороны», заключили настоящий договор о нижеследующем.',
    ),
    sub('1. Предмет договора'),
    p(`1.1. Исполнитель обязуется по заданию Заказчика оказать услуги: ${LONG_BLANK}${LONG_BLANK} (далее — Услуги), а Заказчик обязуется принять и оплатить Услуги.`),
    p(`1.2. Срок оказания Услуг: с «___» ${BLANK} 20___ г. по «___» ${BLANK} 20___ г.`),
    p(`1.3. Место оказания Услуг: ${LONG_BLANK}.`),
    sub('2. Права и обязанности сторон'),
    p('2.1. Исполнитель обязуется оказать Услуги качественно, в срок и лично, если иное не согласовано Сторонами письменно.'),
    p('2.2. Заказчик обязуется предоставить Исполнителю информацию и документы, необходимые для оказания Услуг, принять и оплатить Услуги.'),
    p('2.3. Заказчик вправе в любое время проверять ход и качество оказания Услуг, не вмешиваясь в деятельность Исполнителя.'),
    sub('3. Стоимость услуг и порядок расчётов'),
    p(`3.1. Стоимость Услуг составляет ${BLANK} (${LONG_BLANK}) руб. ___ коп., в том числе НДС ${BLANK} руб. (НДС не облагается — ${BLANK}).`),
    p(`3.2. Заказчик оплачивает Услуги в течение ${BLANK} рабочих дней с даты подписания акта сдачи-приёмки на основании счёта Исполнителя.`),
    p('3.3. Обязательство по оплате считается исполненным с момента зачисления денежных средств на расчётный счёт Исполнителя.'),
    sub('4. Порядок сдачи-приёмки'),
    p('4.1. По окончании оказания Услуг Исполнитель передаёт Заказчику акт сдачи-приёмки оказанных услуг в двух экземплярах.'),
    p(`4.2. Заказчик в течение ${BLANK} рабочих дней подписывает акт либо направляет мотивированный отказ от его подписания.`),
    sub('5. Ответственность сторон'),
    p('5.1. За неисполнение или ненадлежащее исполнение обязательств Стороны несут ответственность в соответствии с законодательством Российской Федерации.'),
    p(`5.2. За просрочку оплаты Исполнитель вправе потребовать уплаты неустойки в размере ${BLANK} % от неоплаченной суммы за каждый день просрочки.`),
    sub('6. Срок действия и расторжение договора'),
    p('6.1. Договор вступает в силу с даты подписания и действует до полного исполнения Сторонами своих обязательств.'),
    p('6.2. Договор может быть расторгнут по соглашению Сторон или в одностороннем порядке в случаях, предусмотренных законом.'),
    sub('7. Прочие условия'),
    p('7.1. Споры разрешаются путём переговоров, а при недостижении согласия — в арбитражном суде по месту нахождения ответчика.'),
    p('7.2. Договор составлен в двух экземплярах, имеющих равную юридическую силу, по одному для каждой из Сторон.'),
    sub('8. Реквизиты и подписи сторон'),
    partiesTable('Заказчик', 'Исполнитель'),
  ].join('');
  return buildDocx({ body, title: 'Договор оказания услуг' });
}

export function buildActOfWork(): Buffer {
  const lines = Array.from({ length: 5 }, (_, i) => [String(i + 1), '', '', '', '', '']);
  const body = [
    h(`АКТ ВЫПОЛНЕННЫХ РАБОТ № ${BLANK}`),
    sub('сдачи-приёмки выполненных работ (оказанных услуг)'),
    placeAndDate(),
    gap(),
    line(`Исполнитель: ${LONG_BLANK}${BLANK}, ИНН ${BLANK}`),
    line(`Заказчик: ${LONG_BLANK}${BLANK}, ИНН ${BLANK}`),
    line(`Основание: договор № ${BLANK} от «___» ${BLANK} 20___ г.`),
    gap(),
    table([['№', 'Наименование работ, услуг', 'Кол-во', 'Ед.', 'Цена, руб.', 'Сумма, руб.'], ...lines], {
      widths: [1, 7.5, 1.8, 1.4, 2.6, 2.7],
      header: true,
    }),
    gap(),
    paragraph({ text: `Итого: ${BLANK} руб.`, bold: true }, { align: 'right', after: 0 }),
    paragraph({ text: `В том числе НДС: ${BLANK} руб.`, bold: true }, { align: 'right', after: 6 }),
    p(`Всего выполнено работ (оказано услуг) на сумму ${BLANK} (${LONG_BLANK}) руб. ___ коп.`),
    p('Вышеперечисленные работы (услуги) выполнены полностью и в срок. Заказчик претензий по объёму, качеству и срокам выполнения работ (оказания услуг) не имеет.'),
    gap(),
    table(
      [
        [{ text: 'Исполнитель', bold: true }, { text: 'Заказчик', bold: true }],
        [`${BLANK} / ${BLANK} /`, `${BLANK} / ${BLANK} /`],
        [{ text: 'подпись, М. П.', size: 9 }, { text: 'подпись, М. П.', size: 9 }],
      ],
      { widths: [8.5, 8.5], borders: false },
    ),
  ].join('');
  return buildDocx({ body, title: 'Акт выполненных работ' });
}

export function buildPowerOfAttorney(): Buffer {
  const body = [
    h(`ДОВЕРЕННОСТЬ № ${BLANK}`),
    placeAndDate(),
    gap(),
    p(
      `${LONG_BLANK}${LONG_BLANK} (ИНН ${BLANK}, ОГРН ${BLANK}, адрес: ${LONG_BLANK}), ` +
        `в лице ${LONG_BLANK}, действующего на основании ${BLANK}, настоящей доверенностью уполномочивает`,
    ),
    p(
      `${LONG_BLANK}${LONG_BLANK}, паспорт серия ${BLANK} № ${BLANK}, выдан ${LONG_BLANK} «___» ${BLANK} ____ г., ` +
        `код подразделения ${BLANK}, зарегистрированного по адресу: ${LONG_BLANK},`,
    ),
    p(
      `представлять интересы организации в ${LONG_BLANK}${LONG_BLANK} по вопросам ${LONG_BLANK}${LONG_BLANK}, ` +
        'для чего предоставляет право подавать и получать документы, подписывать их, вести переговоры и совершать иные действия, связанные с выполнением этого поручения.',
    ),
    p(`Доверенность выдана сроком до «___» ${BLANK} 20___ г. без права передоверия.`),
    gap(),
    line(`Подпись доверенного лица ${BLANK} / ${BLANK} / удостоверяю.`),
    gap(),
    line(`Руководитель ${BLANK} / ${BLANK} /`),
    paragraph({ text: 'М. П.', size: 9 }, { after: 0 }),
  ].join('');
  return buildDocx({ body, title: 'Доверенность' });
}

/** File name in the catalog -> builder. */
export const READY_BUILDERS: Readonly<Record<string, () => Buffer | Promise<Buffer>>> = {
  'shablon-finmodeli.xlsx': buildFinancialModel,
  'otchet-dds.xlsx': buildCashFlow,
  'dogovor-okazaniya-uslug.docx': buildServiceContract,
  'akt-vypolnennyh-rabot.docx': buildActOfWork,
  'schet-na-oplatu.xlsx': buildInvoice,
  'doverennost.docx': buildPowerOfAttorney,
};
