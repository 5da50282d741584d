import { innKind, isValidInn } from './inn';

describe(isValidInn.name, () => {
  it.each(['7707083893', '7830002293', '9721194461'])('accepts legal-entity INN %s', (inn) => {
    expect(isValidInn(inn)).toBe(true);
  });

  it.each(['501817999160', '500100732259'])('accepts individual INN %s', (inn) => {
    expect(isValidInn(inn)).toBe(true);
  });

  it.each(['7707083894', '7830002294', '501817999161', '500100732258', '501817999150'])(
    'rejects %s with a wrong control digit',
    (inn) => {
      expect(isValidInn(inn)).toBe(false);
    },
  );

  it.each(['0000000000', '000000000000'])('rejects the all-zeros placeholder %s', (inn) => {
    expect(isValidInn(inn)).toBe(false);
  });

  it.each(['', '770708389', '77070838930', '50181799916', '5018179991600', '77O7083893', '7707 083893', ' 7707083893'])(
    'rejects malformed %p',
    (inn) => {
      expect(isValidInn(inn)).toBe(false);
    },
  );

  it.each([null, undefined, 7707083893, {}])('rejects non-string %p', (inn) => {
    expect(isValidInn(inn)).toBe(false);
  });
});

describe(innKind.name, () => {
  it('classifies 10 digits as a legal entity and 12 as an individual', () => {
    expect(innKind('7707083893')).toBe('legal');
    expect(innKind('501817999160')).toBe('individual');
  });

  it('returns null for invalid INNs', () => {
    expect(innKind('7707083894')).toBeNull();
    expect(innKind('0000000000')).toBeNull();
    expect(innKind('123')).toBeNull();
  });
});
