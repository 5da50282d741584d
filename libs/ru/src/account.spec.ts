import { isValidAccountForBik, isValidCorrAccountForBik } from './account';

function changeDigit(value: string, index: number): string {
  const digit = (Number(value[index]) + 1) % 10;
  return value.slice(0, index) + digit + value.slice(index + 1);
}

describe(isValidAccountForBik.name, () => {
  it.each([
    ['40602810700000000025', '049805746'],
    ['40802810220000499329', '044525104'],
  ])('accepts account %s at BIK %s', (account, bik) => {
    expect(isValidAccountForBik(account, bik)).toBe(true);
  });

  it.each([0, 5, 8, 13, 19])('rejects 40802810220000499329 with digit %i changed', (index) => {
    expect(isValidAccountForBik(changeDigit('40802810220000499329', index), '044525104')).toBe(false);
  });

  it('rejects a valid account against another bank', () => {
    expect(isValidAccountForBik('40802810220000499329', '044525225')).toBe(false);
  });

  it('keys accounts at a Bank of Russia settlement centre (BIK ending 000-002) by "0" + BIK digits 5-6', () => {
    // Pre-2021 account of УФК по г. Москве at ГУ Банка России (BIK 044525000):
    // valid with prefix "025", invalid with the naive last-three-digits "000".
    expect(isValidAccountForBik('40101810045250010041', '044525000')).toBe(true);
    expect(isValidAccountForBik('40101810045250010042', '044525000')).toBe(false);
  });

  it.each([
    ['4080281022000049932', '044525104'],
    ['408028102200004993290', '044525104'],
    ['4080281022000049932X', '044525104'],
    ['40802810220000499329', '04452510'],
    ['40802810220000499329', '144525104'],
  ])('rejects malformed input %s / %s', (account, bik) => {
    expect(isValidAccountForBik(account, bik)).toBe(false);
  });
});

describe(isValidCorrAccountForBik.name, () => {
  it.each([
    ['30101810745374525104', '044525104'],
    ['30101810400000000225', '044525225'],
  ])('accepts corr account %s at BIK %s', (account, bik) => {
    expect(isValidCorrAccountForBik(account, bik)).toBe(true);
  });

  it.each([3, 10, 19])('rejects 30101810400000000225 with digit %i changed', (index) => {
    expect(isValidCorrAccountForBik(changeDigit('30101810400000000225', index), '044525225')).toBe(false);
  });

  it('rejects a corr account against a BIK from another region', () => {
    // Only BIK digits 5-6 take part in the corr-account key, so the other
    // bank must differ there (044030653 is in St Petersburg, not Moscow "25").
    expect(isValidCorrAccountForBik('30101810400000000225', '044030653')).toBe(false);
  });
});
