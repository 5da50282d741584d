import { uniqueName, withExt } from './bundle.service';

describe('bundle entry names', () => {
  it("gives a document's name the extension of its file, once", () => {
    expect(withExt('Счёт № 15', 'ab12cd34ef.pdf')).toBe('Счёт № 15.pdf');
    expect(withExt('Договор.PDF', 'ab12cd34ef.pdf')).toBe('Договор.PDF');
    expect(withExt('Без файла', null)).toBe('Без файла');
  });

  it('cannot escape its folder or carry control characters', () => {
    expect(withExt('../../etc/passwd', 'x.pdf')).toBe('.._.._etc_passwd.pdf');
    expect(withExt('a\\b\u0000c', 'x.html')).toBe('a_b_c.html');
    expect(withExt('   ', 'x.pdf')).toBe('file.pdf');
  });

  it('cuts a long name between whole characters, so the download header can be written', () => {
    const name = 'Сделка ' + 'я'.repeat(142) + '😀 финал';
    for (const cut of [withExt(name, null), withExt(name, 'ab12.pdf'), withExt('a'.repeat(149) + '👍🏽b', null)]) {
      expect(cut.isWellFormed()).toBe(true);
      // what Content-Disposition's filename*= does, and throws on half a surrogate pair
      expect(() => encodeURIComponent(`${cut}.zip`)).not.toThrow();
    }
    // 150 code points: the emoji is the 150th, whole; the UTF-16 cut took half of it
    expect(withExt(name, null)).toBe('Сделка ' + 'я'.repeat(142) + '😀');
    expect(withExt('a'.repeat(148) + '😀😀', 'x.pdf')).toBe('a'.repeat(148) + '😀😀.pdf');
    // a skin-tone emoji is one character: kept whole or left out whole
    expect(withExt('a'.repeat(149) + '👍🏽b', null)).toBe('a'.repeat(149));
  });

  it('gives names Windows can extract: no " : ? * < > |, no trailing dots or spaces, no device names', () => {
    expect(withExt('Договор с ООО "Ромашка": акт?', 'a.pdf')).toBe('Договор с ООО _Ромашка__ акт_.pdf');
    expect(withExt('Счёт <март> | 2025*', 'a.pdf')).toBe('Счёт _март_ _ 2025_.pdf');
    expect(withExt('Скан.', 'a.pdf')).toBe('Скан.pdf');
    expect(withExt('Скан . . ', null)).toBe('Скан');
    expect(withExt('...', 'a.pdf')).toBe('file.pdf');
    expect(['CON', 'con', 'Aux', 'NUL', 'COM1', 'lpt9', 'PRN '].map((n) => withExt(n, 'a.pdf'))).toEqual(['_CON.pdf', '_con.pdf', '_Aux.pdf', '_NUL.pdf', '_COM1.pdf', '_lpt9.pdf', '_PRN.pdf']);
    expect(withExt('nul.tar', 'a.gz')).toBe('_nul.tar.gz');
    expect(['CONTRACT', 'COM10', 'Консоль'].map((n) => withExt(n, 'a.pdf'))).toEqual(['CONTRACT.pdf', 'COM10.pdf', 'Консоль.pdf']);
    // cut at a space, the name still does not end in one
    expect(withExt('a'.repeat(149) + ' b', null)).toBe('a'.repeat(149));
  });

  it('numbers sanitized names that meet, as any other', () => {
    const used = new Set<string>();
    expect(['Акт: март', 'Акт? март', 'Акт_ март'].map((n) => uniqueName(`files/${withExt(n, 'a.pdf')}`, used))).toEqual([
      'files/Акт_ март.pdf',
      'files/Акт_ март (2).pdf',
      'files/Акт_ март (3).pdf',
    ]);
  });

  it('numbers repeated names, ignoring case', () => {
    const used = new Set<string>();
    expect(['documents/Счёт.pdf', 'documents/счёт.pdf', 'documents/Счёт.pdf', 'files/Счёт.pdf'].map((n) => uniqueName(n, used))).toEqual([
      'documents/Счёт.pdf',
      'documents/счёт (2).pdf',
      'documents/Счёт (3).pdf',
      'files/Счёт.pdf',
    ]);
    expect(uniqueName('files/README', used)).toBe('files/README');
    expect(uniqueName('files/README', used)).toBe('files/README (2)');
  });
});
