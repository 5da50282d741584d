import { isDigits } from './digits';

// BigInt keeps the remainder exact without having to argue about double
// precision (a 14-digit body happens to fit below 2^53 today, but nothing
// here should silently depend on that margin).
function checksumMatches(value: string, bodyLength: number, modulus: bigint): boolean {
  const control = (BigInt(value.slice(0, bodyLength)) % modulus) % 10n;
  return control === BigInt(value[bodyLength]);
}

/**
 * ОГРН of a legal entity: 13 digits, control digit = first 12 digits mod 11 mod 10.
 * The first digit must be 1 or 5: other leading digits are ГРН of later register
 * entries, which share the checksum but are not a company's primary number.
 */
export function isValidOgrn(value: unknown): value is string {
  if (!isDigits(value, 13) || (value[0] !== '1' && value[0] !== '5')) return false;
  return checksumMatches(value, 12, 11n);
}

/**
 * ОГРНИП of an individual entrepreneur: 15 digits, control digit = first 14
 * digits mod 13 mod 10. The first digit must be 3 (4 marks a later ГРНИП entry).
 */
export function isValidOgrnip(value: unknown): value is string {
  if (!isDigits(value, 15) || value[0] !== '3') return false;
  return checksumMatches(value, 14, 13n);
}
