// Positions 5-6 are the registration reason code, which the tax service has
// been allowed to issue with capital Latin letters since 2012.
const KPP_PATTERN = /^\d{4}[0-9A-Z]{2}\d{3}$/;

/** КПП format check: 4 digits (tax office), 2 digits/Latin capitals (reason), 3 digits. */
export function isValidKpp(value: unknown): value is string {
  return typeof value === 'string' && KPP_PATTERN.test(value) && value !== '000000000';
}
