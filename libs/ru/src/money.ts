/**
 * Money is carried as an integer number of kopecks (a JS safe integer) so that
 * sums and VAT never go through binary floating point.
 */
export type Kopecks = number;

/**
 * Thousands separator used by {@link formatRubles}: U+00A0 NO-BREAK SPACE.
 * It is what ru-RU typography and Intl use, and it keeps an amount from being
 * split across lines in rendered documents.
 */
export const RUBLE_GROUP_SEPARATOR = '\u00A0';

export class InvalidAmountError extends Error {
  override readonly name = 'InvalidAmountError';

  constructor(
    readonly input: unknown,
    reason: string,
  ) {
    super(`Invalid ruble amount ${JSON.stringify(String(input))}: ${reason}`);
  }
}

export function isKopecks(value: unknown): value is Kopecks {
  return Number.isSafeInteger(value);
}

export function assertKopecks(value: unknown, what = 'amount'): asserts value is Kopecks {
  if (!isKopecks(value)) {
    throw new RangeError(`${what} must be a safe integer number of kopecks, got ${String(value)}`);
  }
}

// Integer part is either plain digits or correctly grouped thousands
// ("50 000"), so that a stray space inside a number ("5 0000") is rejected
// rather than silently reinterpreted.
const AMOUNT_PATTERN = /^(-)?(\d{1,3}(?:\s\d{3})+|\d+)(?:[.,](\d{1,2}))?$/;

/**
 * Parses rubles into kopecks exactly: "50000", "50000.5", "50 000,50", 1234.56.
 * Numbers are read through their shortest decimal representation, so 0.1 is
 * 10 kopecks, while a number with more than two decimals is rejected instead
 * of rounded: silently rounding money on input hides bugs upstream.
 */
export function rublesToKopecks(input: string | number): Kopecks {
  const text = typeof input === 'number' ? numberToText(input) : String(input).trim();
  const match = AMOUNT_PATTERN.exec(text);
  if (!match) throw new InvalidAmountError(input, 'expected rubles with at most two decimals');

  const [, minus, integerPart, fraction = ''] = match;
  const magnitude = BigInt(integerPart.replace(/\s/g, '')) * 100n + BigInt(fraction.padEnd(2, '0'));
  if (magnitude > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidAmountError(input, 'too large to represent in kopecks');
  }
  const kopecks = Number(magnitude);
  return minus && kopecks !== 0 ? -kopecks : kopecks;
}

function numberToText(value: number): string {
  if (!Number.isFinite(value)) return 'NaN';
  // String() gives the shortest round-tripping decimal; exponent forms mean
  // the value is either huge or has far more than two decimals.
  return String(value);
}

/**
 * Kopecks to rubles as a JS number, the API's money shape: 1010 -> 10.1, 5000050 -> 50000.5.
 * Exact: IEEE division is correctly rounded, so `k / 100` is the double nearest to the decimal
 * k/100, the very number the literal "10.1" parses to (multiplying by 0.01 is not: 0.01 has no
 * exact double). {@link rublesToKopecks} undoes it for up to 15 digits (below 10 trillion rubles);
 * beyond that a double no longer holds every kopeck, which a JSON number cannot carry either.
 */
export function kopecksToRubles(kopecks: Kopecks): number {
  assertKopecks(kopecks);
  return kopecks / 100;
}

/** Formats kopecks as "50 000,00" (groups separated by {@link RUBLE_GROUP_SEPARATOR}). */
export function formatRubles(kopecks: Kopecks): string {
  assertKopecks(kopecks);
  const abs = Math.abs(kopecks);
  const rest = abs % 100;
  const rubles = String((abs - rest) / 100).replace(/\B(?=(\d{3})+$)/g, RUBLE_GROUP_SEPARATOR);
  return `${kopecks < 0 ? '-' : ''}${rubles},${String(rest).padStart(2, '0')}`;
}
