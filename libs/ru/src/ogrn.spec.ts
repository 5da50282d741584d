import { isValidOgrn, isValidOgrnip } from './ogrn';

describe(isValidOgrn.name, () => {
  it('accepts Sberbank OGRN 1027700132195', () => {
    expect(isValidOgrn('1027700132195')).toBe(true);
  });

  it.each(['1027700132194', '1027700132196', '1127700132195'])('rejects %s with a broken checksum', (ogrn) => {
    expect(isValidOgrn(ogrn)).toBe(false);
  });

  it('accepts a 5-prefixed OGRN', () => {
    // 5 + 11 digits, control digit derived from the rule itself.
    const body = '507774612345';
    const control = String((BigInt(body) % 11n) % 10n);
    expect(isValidOgrn(body + control)).toBe(true);
  });

  it('rejects a checksum-valid number that is not a primary OGRN (ГРН prefix 2)', () => {
    const body = '202770013219';
    const control = String((BigInt(body) % 11n) % 10n);
    expect(isValidOgrn(body + control)).toBe(false);
  });

  it.each(['0000000000000', '', '102770013219', '10277001321950', '10277OO132195', '324508100678148'])(
    'rejects %p',
    (ogrn) => {
      expect(isValidOgrn(ogrn)).toBe(false);
    },
  );

  it('rejects non-strings', () => {
    expect(isValidOgrn(1027700132195)).toBe(false);
    expect(isValidOgrn(undefined)).toBe(false);
  });
});

describe(isValidOgrnip.name, () => {
  it.each(['324508100678148', '304500116000157'])('accepts OGRNIP %s', (ogrnip) => {
    expect(isValidOgrnip(ogrnip)).toBe(true);
  });

  it.each(['324508100678147', '304500116000158'])('rejects %s with a wrong control digit', (ogrnip) => {
    expect(isValidOgrnip(ogrnip)).toBe(false);
  });

  it.each(['000000000000000', '1027700132195', '32450810067814', '3245081006781480', '32450810067814X'])(
    'rejects %p',
    (ogrnip) => {
      expect(isValidOgrnip(ogrnip)).toBe(false);
    },
  );
});
