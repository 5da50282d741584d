import { assertKopecks, formatRubles, InvalidAmountError, kopecksToRubles, rublesToKopecks, RUBLE_GROUP_SEPARATOR } from './money';

describe(rublesToKopecks.name, () => {
  it.each([
    ['50000', 5_000_000],
    ['50000.5', 5_000_050],
    ['50 000,50', 5_000_050],
    ['50\u00A0000,50', 5_000_050],
    ['1 234 567.89', 123_456_789],
    ['0,01', 1],
    ['0.1', 10],
    ['007', 700],
    ['  12,3  ', 1230],
    ['-15.75', -1575],
    ['-0', 0],
  ])('parses %p as %i kopecks', (input, expected) => {
    expect(rublesToKopecks(input)).toBe(expected);
  });

  it.each([
    [50000, 5_000_000],
    [50000.5, 5_000_050],
    [0.1, 10],
    [0.29, 29],
    [1.15, 115],
    [19.99, 1999],
    [-0, 0],
  ])('parses the number %p exactly as %i kopecks', (input, expected) => {
    expect(rublesToKopecks(input)).toBe(expected);
  });

  it('does not suffer float multiplication error (0.29 * 100 = 28.999999999999996)', () => {
    expect(0.29 * 100).not.toBe(29);
    expect(rublesToKopecks(0.29)).toBe(29);
  });

  it.each(['', 'abc', '1.234', '1,2,3', '5 0000', '50 00', '1e3', '.5', '5.', '+5', '1 000.000', '--1'])(
    'rejects %p',
    (input) => {
      expect(() => rublesToKopecks(input)).toThrow(InvalidAmountError);
    },
  );

  it.each([NaN, Infinity, 1.005, 1e21, 1e-7])('rejects the number %p', (input) => {
    expect(() => rublesToKopecks(input)).toThrow(InvalidAmountError);
  });

  it('rejects amounts beyond the safe integer range', () => {
    expect(rublesToKopecks('90071992547409.91')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => rublesToKopecks('90071992547409.92')).toThrow(InvalidAmountError);
  });
});

describe(formatRubles.name, () => {
  const s = RUBLE_GROUP_SEPARATOR;

  it('uses a no-break space as the group separator', () => {
    expect(RUBLE_GROUP_SEPARATOR).toBe('\u00A0');
  });

  it.each([
    [5_000_000, `50${s}000,00`],
    [5_000_050, `50${s}000,50`],
    [0, '0,00'],
    [1, '0,01'],
    [99_999, `999,99`],
    [100_000, `1${s}000,00`],
    [123_456_789, `1${s}234${s}567,89`],
    [-150_000, `-1${s}500,00`],
    [Number.MAX_SAFE_INTEGER, `90${s}071${s}992${s}547${s}409,91`],
  ])('formats %i kopecks as %p', (kopecks, expected) => {
    expect(formatRubles(kopecks)).toBe(expected);
  });

  it('round-trips through rublesToKopecks', () => {
    for (const kopecks of [0, 1, 99, 100, 5_000_050, 123_456_789]) {
      expect(rublesToKopecks(formatRubles(kopecks))).toBe(kopecks);
    }
  });

  it.each([1.5, NaN, 2 ** 53])('rejects non-integer kopecks %p', (kopecks) => {
    expect(() => formatRubles(kopecks)).toThrow(RangeError);
  });
});

describe(assertKopecks.name, () => {
  it('names the offending value', () => {
    expect(() => assertKopecks(0.5, 'priceKopecks')).toThrow(/priceKopecks/);
  });
});

describe(kopecksToRubles.name, () => {
  const sut = kopecksToRubles;

  it.each([
    [1010, 10.1],
    [5_000_050, 50000.5],
    [1, 0.01],
    [29, 0.29],
    [115, 1.15],
    [0, 0],
    [-1575, -15.75],
    [Number.MAX_SAFE_INTEGER, 90071992547409.91],
  ])('turns %i kopecks into %p rubles', (kopecks, rubles) => {
    expect(sut(kopecks)).toBe(rubles);
  });

  it('gives the number its decimal spelling parses to, for every amount up to 10 000 rubles and around the safe limit', () => {
    const decimal = (k: number) => `${Math.trunc(k / 100)}.${String(k % 100).padStart(2, '0')}`;
    const amounts = [...Array.from({ length: 1_000_001 }, (_, k) => k), ...Array.from({ length: 1000 }, (_, i) => Number.MAX_SAFE_INTEGER - i)];
    const wrong = amounts.filter((k) => sut(k) !== Number(decimal(k)));
    expect(wrong).toEqual([]);
    // A million amounts: ~2 s of CPU on a loaded CI machine; the bound is a hang guard, not a timing.
  }, 30_000);

  it('does not suffer float multiplication error (35 * 0.01 = 0.35000000000000003)', () => {
    expect(35 * 0.01).not.toBe(0.35);
    expect(sut(35)).toBe(0.35);
  });

  it('is undone by rublesToKopecks for every amount of up to 15 digits, all a double keeps', () => {
    for (const kopecks of [1, 35, 1010, 1999, 123_456_789, 999_999_999_999_999, -999_999_999_999_999]) {
      expect(rublesToKopecks(sut(kopecks))).toBe(kopecks);
    }
  });

  it.each([1.5, NaN, 2 ** 53])('rejects non-integer kopecks %p', (kopecks) => {
    expect(() => sut(kopecks)).toThrow(RangeError);
  });
});
