// Internal helpers shared by the checksum validators; not part of the public API.

export function isDigits(value: unknown, length: number): value is string {
  return typeof value === 'string' && value.length === length && /^\d+$/.test(value);
}

export function isAllZeros(value: string): boolean {
  return /^0+$/.test(value);
}

/** Sum of digit[i] * weights[i] over the first `weights.length` digits. */
export function weightedSum(digits: string, weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += Number(digits[i]) * weights[i];
  return sum;
}
