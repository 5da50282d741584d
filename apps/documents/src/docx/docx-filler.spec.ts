import { runInNewContext } from 'node:vm';
import PizZip from 'pizzip';
import { DOCX_FILL_LIMIT_MS, DocxTemplateError, fillDocx, fillDocxDetailed, listDocxPlaceholders, stripExternalRelationships } from './docx-filler';
import { buildDocx, paragraph, REL_HYPERLINK, REL_IMAGE } from './ooxml';

// The split tag is what Word produces when a user types a mask and spell-check or an edit
// later cuts it into several runs; docxtemplater must see it as one tag.
const BODY =
  '<w:p><w:r><w:t>Заказчик: </w:t></w:r><w:r><w:t>{{cli</w:t></w:r><w:r><w:t>ent}}</w:t></w:r></w:p>' +
  '<w:p><w:r><w:t xml:space="preserve">ИНН {{inn}} КПП {{kpp}}</w:t></w:r></w:p>' +
  '<w:p><w:r><w:t>Адрес: {{ address.city }}</w:t></w:r></w:p>' +
  '<w:p><w:r><w:t>{{#lines}}</w:t></w:r></w:p><w:p><w:r><w:t>{{title}} — {{qty}}</w:t></w:r></w:p><w:p><w:r><w:t>{{/lines}}</w:t></w:r></w:p>' +
  '<w:p><w:r><w:t>Примечание: {{note}}</w:t></w:r></w:p>' +
  '<w:p><w:hyperlink r:id="rIdLink"><w:r><w:t>сайт</w:t></w:r></w:hyperlink></w:p>' +
  '<w:p><w:r><w:drawing><a:blip r:link="rIdPic"/></w:drawing></w:r></w:p>';

function template(body = BODY): Buffer {
  return buildDocx({
    body,
    title: 'Тест',
    relationships: [
      { id: 'rIdLink', type: REL_HYPERLINK, target: 'https://example.com/track?a=1&b=<2>', external: true },
      { id: 'rIdPic', type: REL_IMAGE, target: 'http://169.254.169.254/latest/meta-data', external: true },
      { id: 'rIdLocal', type: REL_IMAGE, target: 'media/logo.png' },
    ],
  });
}

function part(docx: Buffer, name: string): string {
  const file = new PizZip(docx).file(name);
  if (!file) throw new Error(`no ${name}`);
  return file.asText();
}

/** The visible text of document.xml, runs concatenated per paragraph. */
function text(docx: Buffer): string {
  return [...part(docx, 'word/document.xml').matchAll(/<w:p>([\s\S]*?)<\/w:p>/g)]
    .map((p) => [...p[1].matchAll(/<w:t[^>]*>([^<]*)<\/w:t>/g)].map((t) => t[1]).join(''))
    .join('\n');
}

describe('fillDocx', () => {
  const values = {
    client: 'ООО «Ромашка»',
    inn: '7707083893',
    address: { city: 'Москва' },
    lines: [
      { title: 'Разработка', qty: 1 },
      { title: 'Поддержка', qty: 2 },
    ],
  };

  it('fills masks, including one split across runs, nested paths and loops, in Cyrillic', () => {
    const out = text(fillDocx(template(), values));
    expect(out).toContain('Заказчик: ООО «Ромашка»');
    expect(out).toContain('ИНН 7707083893 КПП ');
    expect(out).toContain('Адрес: Москва');
    expect(out).toContain('Разработка — 1\nПоддержка — 2');
    expect(out).not.toContain('{{');
  });

  it('renders a missing mask as empty, never "undefined"', () => {
    const out = text(fillDocx(template(), { client: 'X' }));
    expect(out).toContain('Примечание: ');
    expect(out).toContain('ИНН  КПП ');
    expect(out).not.toMatch(/undefined|null/);
  });

  it('inserts markup-looking values as text', () => {
    const xml = part(fillDocx(template(), { client: '<script>alert(1)</script></w:t><w:t>&x' }), 'word/document.xml');
    expect(xml).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;/w:t&gt;&lt;w:t&gt;&amp;x');
    expect(xml).not.toContain('<script>');
  });

  it('turns newlines in a value into line breaks', () => {
    const xml = part(fillDocx(template(), { note: 'строка 1\nстрока 2' }), 'word/document.xml');
    expect(xml).toMatch(/строка 1<\/w:t><\/w:r><w:r><w:br\/><\/w:r><w:r>(?:<w:rPr>.*?<\/w:rPr>)?<w:t[^>]*>строка 2/);
  });

  it('does not reach the prototype chain or call functions', () => {
    const body = '<w:p><w:r><w:t>[{{constructor}}][{{__proto__}}][{{fn}}][{{client.length}}]</w:t></w:r></w:p>';
    const out = text(fillDocx(template(body), { fn: () => 'called', client: 'abc' }));
    expect(out).toContain('[][][][]');
  });

  it('removes external relationships and the references to them, keeping internal ones', () => {
    const { docx, externalRelationshipsRemoved } = fillDocxDetailed(template(), values);
    expect(externalRelationshipsRemoved).toBe(2);
    const rels = part(docx, 'word/_rels/document.xml.rels');
    expect(rels).not.toMatch(/External|example\.com|169\.254/);
    expect(rels).toContain('Id="rIdLocal"');
    expect(rels).toContain('Id="rIdStyles"');
    const xml = part(docx, 'word/document.xml');
    expect(xml).toContain('<w:hyperlink><w:r><w:t>сайт</w:t></w:r></w:hyperlink>');
    expect(xml).toContain('<a:blip/>');
  });

  it("formats a value through the HTML templates' helpers: money and words in kopecks, the Moscow day of a timestamp", () => {
    const body =
      '<w:p><w:r><w:t>Сумма: {{money document.sumKopecks}} ({{words document.sumKopecks}})</w:t></w:r></w:p>' +
      '<w:p><w:r><w:t>от {{ruDate document.createdAt}} / {{shortDate document.createdAt}}, {{vatLabel vat}}</w:t></w:r></w:p>' +
      '<w:p><w:r><w:t>{{#lines}}</w:t></w:r></w:p><w:p><w:r><w:t>{{title}}: {{money price}}</w:t></w:r></w:p><w:p><w:r><w:t>{{/lines}}</w:t></w:r></w:p>' +
      '<w:p><w:r><w:t>[{{money missing}}]</w:t></w:r></w:p>';
    const out = text(
      fillDocx(template(body), {
        // Made at 00:30 in Moscow on 5 June: still 4 June in UTC.
        document: { sumKopecks: 5_000_050, createdAt: '2026-06-04T21:30:00.000Z' },
        vat: 'none',
        lines: [{ title: 'Разработка', price: 150_000 }],
      }),
    );
    expect(out).toContain('Сумма: 50\u00a0000,50 (Пятьдесят тысяч рублей 50 копеек)');
    expect(out).toContain('от «5» июня 2026 г. / 05.06.2026, Без НДС');
    expect(out).toContain('Разработка: 1\u00a0500,00');
    expect(out).toContain('[]');
    expect(listDocxPlaceholders(template(body))).toEqual(['document.createdAt', 'document.sumKopecks', 'lines', 'missing', 'price', 'title', 'vat']);
  });

  it('refuses, as a template error naming the tag, a helper given a value of the wrong kind', () => {
    const body = '<w:p><w:r><w:t>{{money amount}}</w:t></w:r></w:p>';
    expect(() => fillDocx(template(body), { amount: '1500.50' })).toThrow(DocxTemplateError);
  });

  it('lists placeholders', () => {
    expect(listDocxPlaceholders(template())).toEqual(['address.city', 'client', 'inn', 'kpp', 'lines', 'note', 'qty', 'title']);
  });

  it('reports template errors with the tags at fault', () => {
    const body = '<w:p><w:r><w:t>{{#lines}} {{name</w:t></w:r></w:p><w:p><w:r><w:t>{{@raw}}</w:t></w:r></w:p>';
    let caught: unknown;
    try {
      fillDocx(template(body), {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DocxTemplateError);
    const e = caught as DocxTemplateError;
    expect(e.tags).toEqual(['name', 'lines', 'raw']);
    expect(e.issues.map((i) => i.id)).toEqual(['unclosed_tag', 'unclosed_loop', 'scopeparser_compilation_failed']);
    expect(e.issues.every((i) => i.part === 'word/document.xml')).toBe(true);
    expect(e.message).toMatch(/DOCX template error/);
  });

  it('names the tag of an unclosed loop padded with a long run of spaces in one pass', () => {
    // Under vm's watchdog: trimming its braces with a pattern tried every run of spaces to the end.
    const body = `<w:p><w:r><w:t>{{#a${' '.repeat(100_000)}b}}</w:t></w:r></w:p>`;
    const caught = runInNewContext('run()', { run: () => { try { fillDocx(template(body), {}); return null; } catch (err) { return err; } } }, { timeout: 10_000 }) as unknown;
    expect(caught).toBeInstanceOf(DocxTemplateError);
    expect((caught as DocxTemplateError).tags.every((t) => !/^[{\s]|[}\s]$/.test(t))).toBe(true);
  });

  it('stops loops nested over large lists at the time limit, with a template error (filling blocks the process)', () => {
    const saved = DOCX_FILL_LIMIT_MS.ms;
    DOCX_FILL_LIMIT_MS.ms = 100;
    try {
      // 2,000³ iterations: hours, were it not stopped.
      const body = '<w:p><w:r><w:t>{{#a}}{{#a}}{{#a}}{{n}}{{/a}}{{/a}}{{/a}}</w:t></w:r></w:p>';
      const a = Array.from({ length: 2000 }, (_, n) => ({ n }));
      let caught: unknown;
      try {
        fillDocx(template(body), { a });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DocxTemplateError);
      expect((caught as DocxTemplateError).issues).toEqual([expect.objectContaining({ id: 'fill_time_limit' })]);
      expect((caught as Error).message).toMatch(/took longer than 100 ms/);
      // The next fill has its own time.
      expect(text(fillDocx(template('<w:p><w:r><w:t>{{#a}}{{n}},{{/a}}</w:t></w:r></w:p>'), { a: a.slice(0, 3) }))).toContain('0,1,2,');
    } finally {
      DOCX_FILL_LIMIT_MS.ms = saved;
    }
  });

  it('refuses raw XML tags', () => {
    const body = '<w:p><w:r><w:t>{{@raw}}</w:t></w:r></w:p>';
    expect(() => fillDocx(template(body), { raw: '<w:p/>' })).toThrow(/raw XML tags/);
    try {
      fillDocx(template(body), {});
    } catch (err) {
      expect((err as DocxTemplateError).tags).toEqual(['raw']);
    }
  });

  it('refuses something that is not a DOCX', () => {
    expect(() => fillDocx(Buffer.from('%PDF-1.7 not a zip'), {})).toThrow(DocxTemplateError);
    const zip = new PizZip();
    zip.file('hello.txt', 'hi');
    expect(() => fillDocx(zip.generate({ type: 'nodebuffer' }), {})).toThrow(DocxTemplateError);
  });

  it('refuses a zip whose entry inflates beyond its declared size (zip bomb)', () => {
    const docx = Buffer.from(template());
    // Make word/styles.xml claim 10 bytes while it really inflates to more.
    const name = Buffer.from('word/styles.xml');
    for (let p = docx.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); p >= 0; p = docx.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), p + 4)) {
      const len = docx.readUInt16LE(p + 28);
      if (docx.subarray(p + 46, p + 46 + len).equals(name)) docx.writeUInt32LE(10, p + 24);
    }
    expect(() => fillDocx(docx, {})).toThrow(/declared size/);
  });
});

describe('stripExternalRelationships', () => {
  function relsZip(rels: string, encoding: 'utf8' | 'utf16le' = 'utf8'): PizZip {
    const zip = new PizZip();
    const bytes = encoding === 'utf16le' ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(rels, 'utf16le')]) : Buffer.from(rels);
    zip.file('word/_rels/document.xml.rels', bytes);
    zip.file('_rels/.rels', rels);
    zip.file('word/_rels/settings.xml.rels', rels);
    return zip;
  }

  const tricky =
    '<?xml version="1.0" encoding="UTF-16"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
    "<Relationship Id='a' Type='t' Target='http://x/?q=a>b' TargetMode='External'/>" +
    '<Relationship TargetMode="&#69;xternal" Id="b" Type="t" Target="x.png"/>' +
    '<Relationship Id="c" Type="t" Target="\\\\evil\\share\\x.dotm"/>' +
    '<Relationship Id="d" Type="t" Target="file:///etc/passwd" TargetMode="Internal"/>' +
    '<pr:Relationship xmlns:pr="http://schemas.openxmlformats.org/package/2006/relationships" Id="e" Type="t" Target="https://x" TargetMode="External"></pr:Relationship>' +
    '<Relationship Id="keep" Type="t" Target="styles.xml"/>' +
    '</Relationships>';

  it('catches encoded, prefixed, UNC and absolute-URL targets in every .rels part', () => {
    const zip = relsZip(tricky);
    expect(stripExternalRelationships(zip)).toBe(15);
    for (const name of ['word/_rels/document.xml.rels', '_rels/.rels', 'word/_rels/settings.xml.rels']) {
      const out = zip.file(name)?.asText() ?? '';
      expect(out).toContain('Id="keep"');
      expect(out).not.toMatch(/Id=["'][a-e]["']/);
    }
  });

  it('reads UTF-16 relationship parts', () => {
    const zip = relsZip(tricky, 'utf16le');
    expect(stripExternalRelationships(zip)).toBe(15);
    const out = zip.file('word/_rels/document.xml.rels')?.asText() ?? '';
    expect(out).toContain('encoding="UTF-8"');
    expect(out).toContain('Id="keep"');
    expect(out).not.toContain('http://x');
  });

  it('reads a part of thousands of unclosed or unterminated tags in one pass, and still strips the external one among them', () => {
    // Each unclosed tag used to scan to the end of the part (its square: minutes here, hours for a 60 KB upload).
    const zip = new PizZip();
    const junk = '<Relationship Id="a">'.repeat(40_000) + '<Relationship Id="q" Target="'.repeat(20_000) + '<Relationship a="1" a="1" a="1"'.repeat(10_000);
    zip.file('word/_rels/evil.rels', `${junk}<Relationship Id="x" Type="t" Target="https://evil" TargetMode="External"/>${junk}`);
    // Under vm's watchdog, so a regression fails the test (it ends the synchronous scan) instead of hanging the suite.
    expect(runInNewContext('strip()', { strip: () => stripExternalRelationships(zip) }, { timeout: 10_000 })).toBe(1);
    expect(zip.file('word/_rels/evil.rels')?.asText()).not.toContain('https://evil');
  });

  it('reads a UTF-16 part of many XML declarations in one pass, and rewrites only the one at its start', () => {
    // Unanchored, each `<?xml` was tried to the end of the part (80,000 of them: 35 s).
    const zip = new PizZip();
    const evil = `${'<?xml'.repeat(80_000)}<Relationship Id="x" Type="t" Target="https://evil" TargetMode="External"/>`;
    zip.file('word/_rels/evil.rels', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(evil, 'utf16le')]));
    const declared = `<?xml version="1.0" encoding="UTF-16"?><Relationships><Relationship Id="k" Type="t" Target="styles.xml"/></Relationships>`;
    zip.file('word/_rels/ok.rels', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(declared, 'utf16le')]));
    expect(runInNewContext('strip()', { strip: () => stripExternalRelationships(zip) }, { timeout: 10_000 })).toBe(1);
    expect(zip.file('word/_rels/evil.rels')!.asText()).not.toContain('https://evil');
    expect(zip.file('word/_rels/ok.rels')!.asText().startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  });

  it('leaves a package without external relationships as it is', () => {
    const zip = new PizZip(buildDocx({ body: paragraph('Привет') }));
    const before = zip.file('word/_rels/document.xml.rels')?.asText();
    expect(stripExternalRelationships(zip)).toBe(0);
    expect(zip.file('word/_rels/document.xml.rels')?.asText()).toBe(before);
  });
});
