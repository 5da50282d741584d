import { isValidBik } from './bik';
import { isDigits } from './digits';

const KEY_WEIGHTS = [7, 1, 3] as const;
// Accounts opened in a cash-settlement centre of the Bank of Russia are keyed
// against the RKC's conditional number, not against the BIK's last three digits.
const RKC_SUFFIXES = new Set(['000', '001', '002']);

function hasValidKey(prefix: string, account: string): boolean {
  const digits = prefix + account;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += (Number(digits[i]) * KEY_WEIGHTS[i % 3]) % 10;
  return sum % 10 === 0;
}

function rkcPrefix(bik: string): string {
  return '0' + bik.slice(4, 6);
}

/**
 * Control key of a 20-digit settlement account (расчётный счёт) at the bank
 * with the given БИК, per the Bank of Russia algorithm.
 */
export function isValidAccountForBik(account: unknown, bik: unknown): boolean {
  if (!isDigits(account, 20) || !isValidBik(bik)) return false;
  const suffix = bik.slice(6);
  return hasValidKey(RKC_SUFFIXES.has(suffix) ? rkcPrefix(bik) : suffix, account);
}

/** Control key of a bank's correspondent account (корр. счёт) for the given БИК. */
export function isValidCorrAccountForBik(account: unknown, bik: unknown): boolean {
  if (!isDigits(account, 20) || !isValidBik(bik)) return false;
  return hasValidKey(rkcPrefix(bik), account);
}
