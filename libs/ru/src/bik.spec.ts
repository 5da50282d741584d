import { isValidBik } from './bik';

describe(isValidBik.name, () => {
  it.each(['044525225', '044525104', '049805746', '044525000'])('accepts %s', (bik) => {
    expect(isValidBik(bik)).toBe(true);
  });

  it.each(['04452522', '0445252250', '144525225', '054525225', '04452522A', ' 044525225', ''])('rejects %p', (bik) => {
    expect(isValidBik(bik)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isValidBik(44525225)).toBe(false);
  });
});
