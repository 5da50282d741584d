import ExcelJS from 'exceljs';
import PizZip from 'pizzip';
import { deflateRawSync } from 'node:zlib';
import { buildDocx, paragraph } from '../docx/ooxml';
import { MAX_SNIFF_BYTES, sniffUpload } from './sniff';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb004300', 'hex');
const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1');
const ELF = Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01\x00', 'latin1'), Buffer.alloc(120)]);
const MZ = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(120), Buffer.from('<html><body><p>This program cannot be run in DOS mode')]);

const kind = async (buf: Buffer, name = 'file') => (await sniffUpload(buf, name))?.kind ?? null;

/**
 * A zip written the way streaming writers do it: sizes in a data descriptor after the data,
 * zeros in the local header, so nothing can be skipped by size.
 */
function streamedZip(entries: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of entries) {
    const data = deflateRawSync(Buffer.from(content));
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(0x0008, 6); // sizes follow in a data descriptor
    header.writeUInt16LE(8, 8);
    header.writeUInt16LE(Buffer.byteLength(name), 26);
    parts.push(header, Buffer.from(name), data, Buffer.alloc(16));
  }
  return Buffer.concat(parts);
}

const CONTENT_TYPES = (main: string) =>
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  `<Override PartName="/main.xml" ContentType="application/vnd.openxmlformats-officedocument.${main}"/></Types>`;

describe('sniffUpload', () => {
  it('recognises PDF, PNG and JPEG by magic bytes, whatever the name', async () => {
    expect(await sniffUpload(PDF, 'x.exe')).toEqual({ kind: 'pdf', mime: 'application/pdf', ext: 'pdf' });
    expect(await sniffUpload(PNG, 'photo.jpg')).toEqual({ kind: 'png', mime: 'image/png', ext: 'png' });
    expect(await sniffUpload(JPEG, 'scan.png')).toEqual({ kind: 'jpeg', mime: 'image/jpeg', ext: 'jpg' });
  });

  it('refuses executables, whatever the name', async () => {
    expect(await kind(MZ, 'invoice.pdf')).toBeNull();
    expect(await kind(ELF, 'invoice.pdf')).toBeNull();
    expect(await kind(Buffer.from('#!/bin/sh\necho "<html><body>hi</body></html>"\n'), 'page.html')).toBeNull();
  });

  it('tells DOCX from XLSX in real files', async () => {
    const docx = buildDocx({ body: paragraph('Договор') });
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('Лист1').getCell('A1').value = 1;
    const xlsx = Buffer.from(await wb.xlsx.writeBuffer());
    expect(await sniffUpload(docx.subarray(0, MAX_SNIFF_BYTES), 'a.xlsx')).toMatchObject({ kind: 'docx', ext: 'docx' });
    expect(await sniffUpload(xlsx.subarray(0, MAX_SNIFF_BYTES), 'a.docx')).toMatchObject({ kind: 'xlsx', ext: 'xlsx' });
  });

  it('tells DOCX from XLSX in streamed zips where word/ or xl/ is past the head', async () => {
    const filler = 'x'.repeat(20000).replace(/x/g, () => String.fromCharCode(97 + Math.floor(Math.random() * 26)));
    const docx = streamedZip([
      ['[Content_Types].xml', CONTENT_TYPES('wordprocessingml.document.main+xml')],
      ['docProps/thumbnail.txt', filler],
      ['word/document.xml', '<w:document/>'],
    ]);
    const xlsx = streamedZip([
      ['[Content_Types].xml', CONTENT_TYPES('spreadsheetml.sheet.main+xml')],
      ['docProps/thumbnail.txt', filler],
      ['xl/workbook.xml', '<workbook/>'],
    ]);
    expect(await kind(docx.subarray(0, MAX_SNIFF_BYTES))).toBe('docx');
    expect(await kind(xlsx.subarray(0, MAX_SNIFF_BYTES))).toBe('xlsx');
    // The same with word/ first but no help from a size in the header.
    expect(await kind(streamedZip([['_rels/.rels', '<r/>'], ['word/document.xml', '<w:document/>']]))).toBe('docx');
  });

  it('refuses other zips (plain archives, presentations, OpenDocument)', async () => {
    const zip = new PizZip();
    zip.file('readme.txt', 'hello');
    zip.file('bin/tool.exe', 'MZ');
    expect(await kind(zip.generate({ type: 'nodebuffer' }), 'contract.docx')).toBeNull();
    const pptx = new PizZip();
    pptx.file('[Content_Types].xml', CONTENT_TYPES('presentationml.presentation.main+xml'));
    pptx.file('ppt/presentation.xml', '<p/>');
    expect(await kind(pptx.generate({ type: 'nodebuffer' }), 'a.docx')).toBeNull();
    const odt = new PizZip();
    odt.file('mimetype', 'application/vnd.oasis.opendocument.text', { compression: 'STORE' });
    odt.file('content.xml', '<office:document-content/>');
    expect(await kind(odt.generate({ type: 'nodebuffer' }), 'a.docx')).toBeNull();
  });

  it('accepts HTML by its markup', async () => {
    expect(await sniffUpload(Buffer.from('<!DOCTYPE html><html><body>Счёт</body></html>'), 'a.txt')).toEqual({ kind: 'html', mime: 'text/html', ext: 'html' });
    expect(await kind(Buffer.from('\ufeff  <!-- шаблон --><html lang="ru"><head></head></html>'))).toBe('html');
    expect(await kind(Buffer.from('<?xml version="1.0"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"/>'))).toBe('html');
    expect(await kind(Buffer.from('{{!-- счёт --}}\n<div class="invoice"><p>Итого: {{total}}</p></div>'))).toBe('html');
    expect(await kind(Buffer.from('<table><tr><td>1</td></tr></table>'))).toBe('html');
  });

  it('accepts HTML whose head ends inside a multi-byte character', async () => {
    const text = Buffer.from(`<html><body>${'Счёт на оплату '.repeat(400)}</body></html>`);
    const head = text.subarray(0, MAX_SNIFF_BYTES);
    expect(head.length).toBe(MAX_SNIFF_BYTES);
    expect(await kind(head)).toBe('html');
    expect(await kind(Buffer.concat([Buffer.from('<html><body>'), Buffer.from([0xd1])]))).toBe('html');
  });

  it('refuses text that is not HTML, binary, invalid UTF-8, SVG, other images and nothing', async () => {
    expect(await kind(Buffer.from('just some notes, 5 < 6 and <pre> is not a paragraph'))).toBeNull();
    expect(await kind(Buffer.from('{"a": 1}'))).toBeNull();
    expect(await kind(Buffer.from('<html><body>\x00</body></html>'))).toBeNull();
    expect(await kind(Buffer.concat([Buffer.from('<html><body>'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('</body></html>')]))).toBeNull();
    expect(await kind(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div>x</div></foreignObject></svg>'))).toBeNull();
    expect(await kind(Buffer.from('GIF89a\x01\x00\x01\x00<div>', 'latin1'))).toBeNull();
    expect(await kind(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1'))).toBeNull();
    expect(await kind(Buffer.alloc(0))).toBeNull();
  });

  it('looks only at the first MAX_SNIFF_BYTES', async () => {
    const late = Buffer.concat([Buffer.from('a'.repeat(MAX_SNIFF_BYTES)), Buffer.from('%PDF-1.7')]);
    expect(await kind(late)).toBeNull();
    expect(MAX_SNIFF_BYTES).toBe(4100);
  });
});
