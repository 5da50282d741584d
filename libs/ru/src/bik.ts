// "04" is the country code of Russian bank BIKs; the next digits are the
// region and the participant's number within it.
const BIK_PATTERN = /^04\d{7}$/;

/** БИК of a Russian credit institution: 9 digits starting with "04". */
export function isValidBik(value: unknown): value is string {
  return typeof value === 'string' && BIK_PATTERN.test(value);
}
