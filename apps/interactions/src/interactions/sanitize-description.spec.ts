import { sanitizeDescription } from './sanitize-description';

describe('sanitizeDescription', () => {
  it('keeps formatting, lists, tables and safe links', () => {
    const html =
      '<h2>Этап 1</h2><p><b>Жирный</b>, <i>курсив</i>, <u>подчёркнутый</u></p>' +
      '<ul><li>один</li><li>два</li></ul><ol start="3"><li>три</li></ol>' +
      '<table><thead><tr><th colspan="2">Итого</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>' +
      '<a href="https://example.ru/a?b=1">сайт</a> <a href="mailto:info@example.ru">почта</a> <a href="http://x.ru">x</a>';
    const out = sanitizeDescription(html);
    for (const kept of ['<h2>Этап 1</h2>', '<b>Жирный</b>', '<i>курсив</i>', '<u>подчёркнутый</u>', '<li>два</li>', '<ol start="3">', '<th colspan="2">Итого</th>', '<td>2</td>']) {
      expect(out).toContain(kept);
    }
    expect(out).toContain('href="https://example.ru/a?b=1"');
    expect(out).toContain('href="mailto:info@example.ru"');
    expect(out).toContain('href="http://x.ru"');
    expect(out).toContain('rel="noopener noreferrer nofollow"');
  });

  it('removes scripts, event handlers, javascript: links and styles', () => {
    const html =
      '<p onclick="steal()">Текст</p><script>alert(1)</script><img src=x onerror="alert(2)">' +
      '<a href="javascript:alert(3)">ссылка</a><a href=" JaVaScRiPt:alert(4)">две</a>' +
      '<a href="data:text/html,<script>alert(5)</script>">data</a><a href="//evil.example/x">proto</a>' +
      '<style>body{background:url(https://evil.example/leak)}</style>' +
      '<span style="background-image:url(https://evil.example/leak)">стиль</span>' +
      '<iframe src="https://evil.example"></iframe><svg><script>alert(6)</script></svg>' +
      '<form action="https://evil.example"><input name="a"></form>';
    const out = sanitizeDescription(html);
    expect(out).not.toMatch(/script|onerror|onclick|javascript|alert|style|url\(|iframe|svg|<img|<form|<input|data:|evil/i);
    expect(out).toContain('<p>Текст</p>');
    expect(out).toContain('<span>стиль</span>');
    expect(out).toContain('ссылка');
  });

  it('escapes text so it cannot become markup', () => {
    expect(sanitizeDescription('a < b & c > d')).toBe('a &lt; b &amp; c &gt; d');
    expect(sanitizeDescription('Описание тут')).toBe('Описание тут');
  });
});
