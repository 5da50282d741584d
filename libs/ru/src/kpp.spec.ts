import { isValidKpp } from './kpp';

describe(isValidKpp.name, () => {
  it.each(['773601001', '7736AB001', '772101001', '773643001', '5001Z1001'])('accepts %s', (kpp) => {
    expect(isValidKpp(kpp)).toBe(true);
  });

  it.each(['77360100', '7736010011', '7736ab001', 'A73601001', '77360100A', '7736 01001', '000000000', ''])(
    'rejects %p',
    (kpp) => {
      expect(isValidKpp(kpp)).toBe(false);
    },
  );

  it('rejects non-strings', () => {
    expect(isValidKpp(773601001)).toBe(false);
    expect(isValidKpp(null)).toBe(false);
  });
});
