import { isValidInn } from './inn';
import { isValidKpp } from './kpp';
import { isKopecks, type Kopecks } from './money';

/** Input for a ГОСТ Р 56042-2014 payment QR payload. */
export interface PaymentQrInput {
  /** Payee name (Name). */
  name: string;
  /** Payee settlement account, 20 digits (PersonalAcc). */
  personalAcc: string;
  /** Payee bank name (BankName). */
  bankName: string;
  /** Payee bank БИК, 9 digits (BIC). */
  bic: string;
  /** Payee bank correspondent account, 20 digits, or "0" when there is none (CorrespAcc). */
  correspAcc: string;
  /** Amount in kopecks, positive (Sum). */
  sumKopecks?: Kopecks;
  /** Payment purpose (Purpose). */
  purpose?: string;
  /** Payee ИНН (PayeeINN). */
  payeeInn?: string;
  /** Payee КПП (KPP). */
  kpp?: string;
  /** Payer ИНН (PayerINN). */
  payerInn?: string;
  /** Budget classification code for tax payments (CBC). */
  cbc?: string;
  /** ОКТМО (OKTMO). */
  oktmo?: string;
  /** Document number the payment refers to (DocNo). */
  docNo?: string;
  /** Document date, DD.MM.YYYY (DocDate). */
  docDate?: string;
  /** Payer surname / first name / patronymic (LastName, FirstName, MiddleName). */
  lastName?: string;
  firstName?: string;
  middleName?: string;
  /** Payer address (PayerAddress). */
  payerAddress?: string;
  /** Contract number (Contract). */
  contract?: string;
  /** Unique accrual identifier, УИН (UIN). */
  uin?: string;
}

type RequiredField = 'name' | 'personalAcc' | 'bankName' | 'bic' | 'correspAcc';
type OptionalTextField = Exclude<keyof PaymentQrInput, RequiredField | 'sumKopecks'>;

export class PaymentQrFieldError extends Error {
  override readonly name = 'PaymentQrFieldError';

  constructor(
    /** The offending input property, e.g. "personalAcc". */
    readonly field: keyof PaymentQrInput,
    reason: string,
  ) {
    super(`Payment QR field "${field}" ${reason}`);
  }
}

/** "ST0001" format identifier + encoding "2" = UTF-8. */
export const PAYMENT_QR_HEADER = 'ST00012';

const REQUIRED: readonly (readonly [RequiredField, string, RegExp | null])[] = [
  ['name', 'Name', null],
  ['personalAcc', 'PersonalAcc', /^\d{20}$/],
  ['bankName', 'BankName', null],
  ['bic', 'BIC', /^\d{9}$/],
  // GOST allows "0" for payees whose bank has no correspondent account.
  ['correspAcc', 'CorrespAcc', /^(?:\d{20}|0)$/],
];

// Sum, Purpose, PayeeINN, KPP keep a fixed leading order so payloads are
// byte-stable for snapshot tests; the rest follow the standard's table order.
const OPTIONAL: readonly (readonly [OptionalTextField, string])[] = [
  ['purpose', 'Purpose'],
  ['payeeInn', 'PayeeINN'],
  ['kpp', 'KPP'],
  ['payerInn', 'PayerINN'],
  ['cbc', 'CBC'],
  ['oktmo', 'OKTMO'],
  ['docNo', 'DocNo'],
  ['docDate', 'DocDate'],
  ['lastName', 'LastName'],
  ['firstName', 'FirstName'],
  ['middleName', 'MiddleName'],
  ['payerAddress', 'PayerAddress'],
  ['contract', 'Contract'],
  ['uin', 'UIN'],
];

/**
 * "|" is the field separator and the standard has no escaping, so it is
 * replaced with "/"; line breaks, tabs and other control characters become
 * spaces because bank apps stop reading at them. Values are trimmed.
 */
export function sanitizeQrValue(value: string): string {
  // NFC: a decomposed "й" (и + U+0306, as macOS and some exports write it) is one character, as
  // bank apps expect, and cannot lose its breve to a cut.
  return value.normalize('NFC').replace(/\|/g, '/').replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

const graphemes = new Intl.Segmenter('ru', { granularity: 'grapheme' });

/**
 * The longest start of `value` of at most `max` characters (code points) that ends between two
 * whole graphemes: never half of a surrogate pair, never a letter without its combining mark, an
 * emoji without its modifier or a flag's half.
 */
export function cutToCharacters(value: string, max: number): string {
  let length = 0;
  let end = 0;
  for (const { segment, index } of graphemes.segment(value)) {
    let n = 0;
    for (const _ of segment) n++;
    if (length + n > max) return value.slice(0, end);
    length += n;
    end = index + segment.length;
  }
  return value;
}

/**
 * The longest value of each field, in characters (ГОСТ Р 56042-2014, tables 1 and 2; the standard
 * sets none for the payer's details of table 3). Free text longer than that (a name, a bank's
 * name, a purpose) is cut to it, so that a bank app takes the payment instead of refusing the
 * code; a longer code (КБК, ОКТМО, a document's number or date) is a wrong one, and refused.
 */
export const PAYMENT_QR_MAX_LENGTH: Readonly<Partial<Record<keyof PaymentQrInput, number>>> = {
  name: 160,
  bankName: 45,
  purpose: 210,
  cbc: 20,
  oktmo: 11,
  docNo: 15,
  docDate: 10,
};

const CUT_TO_FIT: ReadonlySet<keyof PaymentQrInput> = new Set(['name', 'bankName', 'purpose']);

/** `value` within its field's maximum: free text cut by characters (`cutToCharacters`) and trimmed again, a code refused. */
function fitted(field: keyof PaymentQrInput, value: string): string {
  const max = PAYMENT_QR_MAX_LENGTH[field];
  if (max === undefined) return value;
  if (Array.from(value).length <= max) return value;
  if (!CUT_TO_FIT.has(field)) throw new PaymentQrFieldError(field, `is longer than ${max} characters: "${value}"`);
  return cutToCharacters(value, max).trimEnd();
}

function requiredValue(input: PaymentQrInput, field: RequiredField, pattern: RegExp | null): string {
  const raw: unknown = input[field];
  if (typeof raw !== 'string') throw new PaymentQrFieldError(field, 'is required');
  const value = fitted(field, sanitizeQrValue(raw));
  if (!value) throw new PaymentQrFieldError(field, 'is required');
  if (pattern && !pattern.test(value)) throw new PaymentQrFieldError(field, `has an invalid format: "${value}"`);
  return value;
}

function optionalValue(input: PaymentQrInput, field: OptionalTextField): string | null {
  const raw: unknown = input[field];
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'string') throw new PaymentQrFieldError(field, 'must be a string');
  const value = fitted(field, sanitizeQrValue(raw));
  if (!value) return null;
  if (field === 'payeeInn' || field === 'payerInn') {
    if (!isValidInn(value)) throw new PaymentQrFieldError(field, `is not a valid INN: "${value}"`);
  }
  if (field === 'kpp' && !isValidKpp(value)) throw new PaymentQrFieldError(field, `is not a valid KPP: "${value}"`);
  return value;
}

/**
 * Builds the text of a payment QR code (ГОСТ Р 56042-2014, UTF-8):
 * `ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|Sum=…|Purpose=…|PayeeINN=…|KPP=…`.
 * Absent optional fields are omitted; text longer than the standard allows is
 * cut to its maximum ({@link PAYMENT_QR_MAX_LENGTH}). Formats are checked, but whether the
 * account matches the БИК is not: use isValidAccountForBik where the
 * requisites are captured.
 */
export function paymentQrPayload(input: PaymentQrInput): string {
  const parts = [PAYMENT_QR_HEADER];
  for (const [field, key, pattern] of REQUIRED) parts.push(`${key}=${requiredValue(input, field, pattern)}`);

  if (input.sumKopecks !== undefined && input.sumKopecks !== null) {
    if (!isKopecks(input.sumKopecks) || input.sumKopecks <= 0) {
      throw new PaymentQrFieldError('sumKopecks', `must be a positive integer number of kopecks, got ${input.sumKopecks}`);
    }
    parts.push(`Sum=${input.sumKopecks}`);
  }
  for (const [field, key] of OPTIONAL) {
    const value = optionalValue(input, field);
    if (value !== null) parts.push(`${key}=${value}`);
  }
  return parts.join('|');
}
