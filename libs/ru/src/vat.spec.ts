import { baseVatRate, invoiceTotals, isVatRate, vatIncluded, vatLabel, vatOnTop, vatPurposeClause } from './vat';

describe(baseVatRate.name, () => {
  it('is 20 % before 2026 and 22 % from 2026-01-01', () => {
    expect(baseVatRate('2025-12-31')).toBe(20);
    expect(baseVatRate('2026-01-01')).toBe(22);
    expect(baseVatRate('2019-01-01')).toBe(20);
    expect(baseVatRate('2030-06-01')).toBe(22);
  });

  it('switches at Moscow midnight, not UTC midnight', () => {
    expect(baseVatRate(new Date('2025-12-31T20:59:59Z'))).toBe(20);
    expect(baseVatRate(new Date('2025-12-31T21:00:00Z'))).toBe(22);
  });
});

describe(vatLabel.name, () => {
  it.each([
    [22, 'НДС 22%'],
    [20, 'НДС 20%'],
    [10, 'НДС 10%'],
    [7, 'НДС 7%'],
    [5, 'НДС 5%'],
    [0, 'НДС 0%'],
    ['none', 'Без НДС'],
  ] as const)('%p -> %s', (rate, label) => {
    expect(vatLabel(rate)).toBe(label);
  });
});

describe(isVatRate.name, () => {
  it('accepts only the supported rates', () => {
    expect(isVatRate(22)).toBe(true);
    expect(isVatRate('none')).toBe(true);
    expect(isVatRate(18)).toBe(false);
    expect(isVatRate('22')).toBe(false);
  });
});

describe(vatIncluded.name, () => {
  it.each([
    [5_000_000, 20, 833_333],
    [1_200_000, 20, 200_000],
    [12_200, 22, 2_200],
    [11_000, 10, 1_000],
    [10_500, 5, 500],
    [10_700, 7, 700],
    [5_000_000, 0, 0],
    [5_000_000, 'none', 0],
    [0, 22, 0],
  ] as const)('VAT inside %i at %p %% is %i', (total, rate, vat) => {
    expect(vatIncluded(total, rate)).toBe(vat);
  });

  it('rounds exact halves up', () => {
    // 3 * 20 / 120 = 0.5; 9 * 20 / 120 = 1.5
    expect(vatIncluded(3, 20)).toBe(1);
    expect(vatIncluded(9, 20)).toBe(2);
    // 2 * 20 / 120 = 0.333...
    expect(vatIncluded(2, 20)).toBe(0);
  });

  it('rounds negative amounts symmetrically', () => {
    expect(vatIncluded(-3, 20)).toBe(-1);
    expect(vatIncluded(-5_000_000, 20)).toBe(-833_333);
  });

  it('stays exact where total * rate exceeds 2^53', () => {
    const total = Number.MAX_SAFE_INTEGER; // * 22 would lose precision as a double
    const expected = (BigInt(total) * 22n * 2n + 122n) / 244n;
    expect(vatIncluded(total, 22)).toBe(Number(expected));
  });

  it('rejects non-integer kopecks and unknown rates', () => {
    expect(() => vatIncluded(100.5, 20)).toThrow(RangeError);
    expect(() => vatIncluded(100, 18 as never)).toThrow(RangeError);
  });
});

describe(vatOnTop.name, () => {
  it.each([
    [5_000_000, 22, 1_100_000],
    [5_000_000, 20, 1_000_000],
    [25, 22, 6], // 5.5 -> 6
    [5, 10, 1], // 0.5 -> 1
    [10, 5, 1], // 0.5 -> 1
    [50, 7, 4], // 3.5 -> 4
    [24, 22, 5], // 5.28 -> 5
    [5_000_000, 'none', 0],
    [5_000_000, 0, 0],
  ] as const)('VAT on %i at %p %% is %i', (net, rate, vat) => {
    expect(vatOnTop(net, rate)).toBe(vat);
  });

  it('rounds negative halves away from zero', () => {
    expect(vatOnTop(-5, 10)).toBe(-1);
  });
});

describe(invoiceTotals.name, () => {
  it('adds VAT on top of net line sums', () => {
    const result = invoiceTotals(
      [
        { quantity: 1.5, priceKopecks: 33_333 }, // 49 999.5 -> 50 000
        { quantity: 2, priceKopecks: 10_000 },
      ],
      22,
      'on-top',
    );
    expect(result).toEqual({
      lines: [{ sumKopecks: 50_000 }, { sumKopecks: 20_000 }],
      netKopecks: 70_000,
      vatKopecks: 15_400,
      totalKopecks: 85_400,
    });
  });

  it('extracts VAT from gross line sums', () => {
    const result = invoiceTotals(
      [
        { quantity: 1, priceKopecks: 12_000 },
        { quantity: 0.333, priceKopecks: 10_000 },
      ],
      20,
      'included',
    );
    expect(result).toEqual({
      lines: [{ sumKopecks: 12_000 }, { sumKopecks: 3_330 }],
      netKopecks: 12_775,
      vatKopecks: 2_555,
      totalKopecks: 15_330,
    });
  });

  it('computes line sums without float error', () => {
    // 1.005 * 100 = 100.49999999999999 in floating point, which would round to 100
    expect(invoiceTotals([{ quantity: 1.005, priceKopecks: 100 }], 'none', 'on-top').lines[0].sumKopecks).toBe(101);
    expect(invoiceTotals([{ quantity: 0.125, priceKopecks: 4 }], 'none', 'on-top').lines[0].sumKopecks).toBe(1);
  });

  it('has no VAT for "Без НДС"', () => {
    const result = invoiceTotals([{ quantity: 3, priceKopecks: 1_000_000 }], 'none', 'included');
    expect(result).toEqual({
      lines: [{ sumKopecks: 3_000_000 }],
      netKopecks: 3_000_000,
      vatKopecks: 0,
      totalKopecks: 3_000_000,
    });
  });

  it('keeps net + VAT = total', () => {
    for (const mode of ['included', 'on-top'] as const) {
      const r = invoiceTotals([{ quantity: 7.777, priceKopecks: 12_345 }], 22, mode);
      expect(r.netKopecks + r.vatKopecks).toBe(r.totalKopecks);
    }
  });

  it('returns zeros for an empty invoice', () => {
    expect(invoiceTotals([], 22, 'on-top')).toEqual({ lines: [], netKopecks: 0, vatKopecks: 0, totalKopecks: 0 });
  });

  it.each([1.0005, -1, NaN, Infinity, 1e-7])('rejects quantity %p', (quantity) => {
    expect(() => invoiceTotals([{ quantity, priceKopecks: 100 }], 22, 'on-top')).toThrow(/lines\[0\]\.quantity/);
  });

  it('rejects a fractional price', () => {
    expect(() => invoiceTotals([{ quantity: 1, priceKopecks: 1.5 }], 22, 'on-top')).toThrow(/lines\[0\]\.priceKopecks/);
  });

  it('rejects an unknown mode', () => {
    expect(() => invoiceTotals([], 22, 'gross' as never)).toThrow(RangeError);
  });

  it('rejects totals beyond the safe integer range', () => {
    const huge = { quantity: 1, priceKopecks: Number.MAX_SAFE_INTEGER };
    expect(() => invoiceTotals([huge, huge], 'none', 'on-top')).toThrow(RangeError);
  });
});

describe(vatPurposeClause.name, () => {
  it('states the VAT in a payment purpose as payment orders write it, or that there is none', () => {
    expect(vatPurposeClause(22, 220_000)).toBe('В т.ч. НДС 22% - 2200,00 руб.');
    expect(vatPurposeClause(10, 5)).toBe('В т.ч. НДС 10% - 0,05 руб.');
    expect(vatPurposeClause(22, 123_456_789_012)).toBe('В т.ч. НДС 22% - 1234567890,12 руб.');
    expect(vatPurposeClause(0, 0)).toBe('В т.ч. НДС 0% - 0,00 руб.');
    expect(vatPurposeClause('none', 0)).toBe('НДС не облагается');
  });
});
