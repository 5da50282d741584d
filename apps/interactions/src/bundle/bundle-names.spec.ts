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
