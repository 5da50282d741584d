import { isAllZeros, isDigits, weightedSum } from './digits';

export type InnKind = 'legal' | 'individual';

const LEGAL_WEIGHTS = [2, 4, 10, 3, 5, 9, 4, 6, 8] as const;
const INDIVIDUAL_WEIGHTS_11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8] as const;
const INDIVIDUAL_WEIGHTS_12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8] as const;

function controlDigit(digits: string, weights: readonly number[]): number {
  return (weightedSum(digits, weights) % 11) % 10;
}

function isValidLegalInn(inn: string): boolean {
  return controlDigit(inn, LEGAL_WEIGHTS) === Number(inn[9]);
}

function isValidIndividualInn(inn: string): boolean {
  return (
    controlDigit(inn, INDIVIDUAL_WEIGHTS_11) === Number(inn[10]) &&
    controlDigit(inn, INDIVIDUAL_WEIGHTS_12) === Number(inn[11])
  );
}

/**
 * Kind of a checksum-valid INN: 10 digits = legal entity, 12 digits = individual
 * (ИП or a natural person). Returns null for anything that is not a valid INN.
 * Input is not trimmed or de-spaced: normalising user input is the caller's job,
 * and silently accepting "7707 083893" would hide bad data in stored records.
 */
export function innKind(value: unknown): InnKind | null {
  // All zeros satisfies the checksum (0 mod 11 = 0) but no tax office issues it;
  // it is a common placeholder in imported data, so treat it as missing.
  if (isDigits(value, 10)) return !isAllZeros(value) && isValidLegalInn(value) ? 'legal' : null;
  if (isDigits(value, 12)) return !isAllZeros(value) && isValidIndividualInn(value) ? 'individual' : null;
  return null;
}

/** ИНН checksum validation (10-digit legal entity or 12-digit individual). */
export function isValidInn(value: unknown): value is string {
  return innKind(value) !== null;
}
