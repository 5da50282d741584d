import Handlebars from 'handlebars';
import { readdirSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { FONTS_DIR, resolveFontFamily } from './fonts';
import { compileTemplate, FILL_LIMITS, renderHtml, TemplateRenderError, TemplateSyntaxError } from './handlebars-engine';

const NBSP = '\u00A0';
const render = (source: string, data: Record<string, unknown> = {}) => compileTemplate(source).render(data);

describe('helpers', () => {
  it('formats money, words, dates, VAT labels and row numbers', () => {
    const data = { sum: 5_000_000, date: '2026-06-05', rate: 22, none: 'none', index: 0 };
    expect(render('{{money sum}}', data)).toBe(`50${NBSP}000,00`);
    expect(render('{{words sum}}', data)).toBe('Пятьдесят тысяч рублей 00 копеек');
    expect(render('{{ruDate date}}', data)).toBe('«5» июня 2026 г.');
    expect(render('{{shortDate date}}', data)).toBe('05.06.2026');
    expect(render('{{vatLabel rate}}|{{vatLabel "10"}}|{{vatLabel none}}', data)).toBe('НДС 22%|НДС 10%|Без НДС');
    expect(render('{{#each items}}{{inc @index}}.{{this}} {{/each}}', { items: ['a', 'b'] })).toBe('1.a 2.b ');
    expect(render('{{#if (eq rate 22)}}yes{{else}}no{{/if}}{{#if (eq rate "22")}}!{{/if}}', data)).toBe('yes');
  });

  it('prints nothing for empty values so optional masks can be omitted', () => {
    expect(render('[{{money missing}}{{words missing}}{{ruDate missing}}{{shortDate missing}}{{vatLabel missing}}]')).toBe('[]');
  });

  it('rejects a wrong value with a TemplateRenderError instead of printing a wrong amount', () => {
    expect(() => render('{{money sum}}', { sum: 1500.5 })).toThrow(TemplateRenderError);
    expect(() => render('{{money sum}}', { sum: 1500.5 })).toThrow(/money expects integer kopecks/);
    expect(() => render('{{ruDate d}}', { d: 'завтра' })).toThrow(TemplateRenderError);
    expect(() => render('{{vatLabel r}}', { r: 18 })).toThrow(/vatLabel expects/);
    expect(() => render('{{inc x}}', { x: {} })).toThrow(/inc expects a number/);
  });
});

describe('compileTemplate: safety', () => {
  it('HTML-escapes every value', () => {
    const out = render('<td>{{title}}</td><a href="{{url}}">', { title: '<script>alert("x")</script>', url: '" onclick="x' });
    expect(out).toBe('<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td><a href="&quot; onclick&#x3D;&quot;x">');
  });

  it.each([
    ['{{{html}}}', /unescaped output/],
    ['{{&html}}', /unescaped output/],
    ['{{> header}}', /partials/],
    ['{{#> layout}}x{{/layout}}', /partials/],
    ['{{#*inline "p"}}x{{/inline}}', /inline partials/],
    ['{{* decorator}}', /decorators/],
  ])('rejects %s', (source, message) => {
    expect(() => compileTemplate(source)).toThrow(TemplateSyntaxError);
    expect(() => compileTemplate(source)).toThrow(message);
  });

  it('does not expose prototypes: {{constructor.constructor}}, {{__proto__}} and friends render nothing', () => {
    const data = { obj: {}, text: 'abc', list: [1] };
    for (const source of [
      '{{constructor.constructor}}',
      '{{__proto__}}',
      '{{__proto__.constructor.name}}',
      '{{obj.constructor.name}}',
      '{{text.constructor}}',
      '{{list.constructor.name}}',
      '{{lookup this "constructor"}}',
      '{{lookup obj "__proto__"}}',
      '{{#with text}}{{constructor.name}}{{/with}}',
      '{{@root.constructor.name}}',
      '{{[constructor]}}',
    ]) {
      expect(render(source, data)).toBe('');
    }
  });

  it('rejects the classic prototype-pollution RCE payload at compile time (it needs calls to non-helpers)', () => {
    const payload = `{{#with "s" as |string|}}
  {{#with "e"}}
    {{#with split as |conslist|}}
      {{this.pop}}
      {{this.push (lookup string.sub "constructor")}}
      {{this.pop}}
    {{/with}}
  {{/with}}
{{/with}}`;
    expect(() => compileTemplate(payload)).toThrow(TemplateSyntaxError);
    expect(() => compileTemplate(payload)).toThrow(/line 5: .*unknown helper push/);
  });

  it('fails to compile a call to an unknown helper, naming it and the line', () => {
    const error = catchError(() => compileTemplate('<p>ok</p>\n<p>{{shout name}}</p>'));
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect(error).toMatchObject({ line: 2, message: expect.stringContaining('unknown helper shout') });
    expect(() => compileTemplate('{{#if (gt a 1)}}x{{/if}}')).toThrow(/unknown helper gt/);
    // log is a Handlebars built-in, but a template must not write to our logs.
    expect(() => compileTemplate('{{log "hi"}}')).toThrow(/unknown helper log/);
    expect(() => compileTemplate('{{helperMissing "x"}}')).toThrow(TemplateSyntaxError);
  });

  it('reports parse errors with the line', () => {
    const error = catchError(() => compileTemplate('<h1>{{title}}</h1>\n<p>\n{{#if x}}unclosed'));
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect((error as TemplateSyntaxError).line).toBe(3);
    expect((error as Error).message).toMatch(/^Template error on line 3: parse error/);
    expect(() => compileTemplate('{{#each items}}x{{/if}}')).toThrow(/each doesn't match if/);
  });

  it('still renders plain mustache sections over data', () => {
    expect(render('{{#person}}{{name}}{{/person}}{{#missing}}x{{/missing}}', { person: { name: 'Анна' } })).toBe('Анна');
  });

  it('uses an environment of its own: helpers registered on the global Handlebars do not leak in', () => {
    Handlebars.registerHelper('leaky', () => 'leaked');
    try {
      expect(() => compileTemplate('{{leaky 1}}')).toThrow(/unknown helper leaky/);
    } finally {
      Handlebars.unregisterHelper('leaky');
    }
  });
});

describe('compileTemplate: bounded filling', () => {
  const saved = { ...FILL_LIMITS };
  afterEach(() => Object.assign(FILL_LIMITS, saved));

  it('stops loops nested over large lists at the time limit, with a template error (filling blocks the process)', () => {
    FILL_LIMITS.ms = 100;
    // 2,000³ iterations: hours, were it not stopped.
    const t = compileTemplate('{{#each a}}{{#each @root.a}}{{#each @root.a}}{{this}}{{/each}}{{/each}}{{/each}}');
    const a = Array.from({ length: 2000 }, (_, i) => i);
    expect(() => t.render({ a })).toThrow(TemplateRenderError);
    expect(() => t.render({ a })).toThrow(/took longer than 100 ms/);
  });

  it('stops a template that writes more than the output limit', () => {
    FILL_LIMITS.chars = 1024 * 1024;
    const t = compileTemplate('{{#each rows}}<p>{{../text}}</p>{{/each}}');
    expect(() => t.render({ rows: Array.from({ length: 200 }, () => 1), text: 'x'.repeat(10_000) })).toThrow(/writes more than 1048576 characters/);
  });

  it('fills the same loops as before within the limits, and the next fill starts afresh', () => {
    FILL_LIMITS.chars = 1024 * 1024;
    const t = compileTemplate('{{#each lines}}{{@index}}:{{name}}{{#if @last}}.{{else}},{{/if}}{{/each}}{{#each none}}x{{else}}-{{/each}}');
    const lines = [{ name: 'a' }, { name: 'b' }];
    expect(t.render({ lines, none: [] })).toBe('0:a,1:b.-');
    expect(() => compileTemplate('{{#each rows}}{{../text}}{{/each}}').render({ rows: [1, 2], text: 'x'.repeat(600_000) })).toThrow(TemplateRenderError);
    expect(t.render({ lines, none: [] })).toBe('0:a,1:b.-');
  });
});

describe('renderHtml', () => {
  it('wraps a fragment in a standalone Russian HTML document with page and body style', () => {
    const html = renderHtml(compileTemplate('<p>{{text}}</p>'), { text: 'Привет' });
    expect(html).toMatch(/^<!doctype html><html lang="ru"><head><meta charset="utf-8"><style>/);
    expect(html).toContain('<body><p>Привет</p></body></html>');
    expect(html).toContain('@page { size: A4; margin: 15mm; }');
    expect(html).toContain("body { font-family: 'Liberation Sans', sans-serif; }");
  });

  it('names a bundled family and inlines no font: the browser has them as local fonts', () => {
    const html = renderHtml(compileTemplate('<p>x</p>'), {}, { font: 'Times New Roman' });
    expect(html).toContain("font-family: 'Liberation Serif'");
    expect(html).not.toMatch(/@font-face|url\(/);
    // A small page: the ~370 KB of base64 fonts it used to carry are gone.
    expect(html.length).toBeLessThan(500);
    // The families named are the files of the directory the render pool gives its browser.
    expect(readdirSync(FONTS_DIR).filter((f) => f.endsWith('.ttf'))).toEqual(
      expect.arrayContaining(['LiberationSans-Regular.ttf', 'LiberationSans-Bold.ttf', 'LiberationSerif-Regular.ttf', 'LiberationSerif-Bold.ttf']),
    );
  });

  it('injects the style first in the head of a full document, so the template CSS wins', () => {
    const source = '<!DOCTYPE html>\n<html lang="ru"><head data-x="1"><title>{{t}}</title><style>body{font-size:9pt}</style></head><body>b</body></html>';
    const html = renderHtml(compileTemplate(source), { t: 'T' });
    expect(html.match(/<html/g)).toHaveLength(1);
    expect(html.indexOf('<head data-x="1"><style>@page')).toBeGreaterThan(0);
    expect(html.indexOf('@page')).toBeLessThan(html.indexOf('body{font-size:9pt}'));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('reads a template of many leading comments, or of unclosed <html tags, in one pass (the user writes it)', () => {
    // Under vm's watchdog, so a regression (exponential in the comments, the square of the
    // unclosed tags, as before) fails the test instead of hanging the suite.
    const run = (source: string) => runInNewContext('render()', { render: () => renderHtml(compileTemplate(source), { x: 'X' }) }, { timeout: 10_000 }) as string;
    const comments = run(`${'<!---->'.repeat(60)}<html><body>{{x}}</body></html>`);
    expect(comments).toMatch(/^<!doctype html><!---->/);
    expect(comments).toContain('<html><head><style>@page');
    expect(run(`<!-- a --> <!DOCTYPE html><html><body>{{x}}</body></html>`)).toMatch(/^<!-- a --> <!DOCTYPE html><html><head><style>/);
    const unclosed = run(`<p>{{x}}</p>${'<html '.repeat(40_000)}`);
    expect(unclosed.startsWith('<!doctype html><html lang="ru"><head>')).toBe(true);
    expect(run(`<HTML\tlang="ru"><HEAD><title>t</title></HEAD><body>{{x}}</body></HTML>`)).toContain('<HEAD><style>@page');
  });

  it('adds a head and a doctype to a document that has neither', () => {
    const html = renderHtml(compileTemplate('<html><body>x</body></html>'), {});
    expect(html).toMatch(/^<!doctype html><html><head><style>@page/);
    expect(html).toContain('</style></head><body>x</body></html>');
  });

  it('does not treat an escaped value that looks like markup as a full document', () => {
    const html = renderHtml(compileTemplate('<p>{{v}}</p>'), { v: '<html><head>' });
    expect(html).toContain('<body><p>&lt;html&gt;&lt;head&gt;</p></body>');
  });

  it.each([
    ['Arial', 'Liberation Sans'],
    ['Helvetica', 'Liberation Sans'],
    ['sans-serif', 'Liberation Sans'],
    ['Times New Roman', 'Liberation Serif'],
    ['"Times New Roman"', 'Liberation Serif'],
    ['times', 'Liberation Serif'],
    ['serif', 'Liberation Serif'],
    ['Comic Sans MS', 'Liberation Sans'],
    [undefined, 'Liberation Sans'],
  ])('maps font %p to %s', (font, family) => {
    expect(resolveFontFamily(font)).toBe(family);
    const html = renderHtml(compileTemplate('x'), {}, { font });
    expect(html).toContain(`body { font-family: '${family}', ${family === 'Liberation Serif' ? 'serif' : 'sans-serif'}; }`);
    expect(html).not.toContain(`font-family: '${family === 'Liberation Serif' ? 'Liberation Sans' : 'Liberation Serif'}'`);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
