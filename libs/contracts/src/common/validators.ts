import { isValidAccountForBik, isValidBik, isValidInn, rublesToKopecks } from '@papka/ru';
import { Transform } from 'class-transformer';
import {
  IsISO8601,
  IsString,
  IsUUID,
  Matches,
  registerDecorator,
  ValidateIf,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

/** The value is a Russian INN (10 or 12 digits) with valid check digits. */
export function IsInn(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isInn',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property must be a valid INN (10 or 12 digits with a correct check digit)', ...options },
      validator: { validate: (v: unknown) => typeof v === 'string' && isValidInn(v) },
    });
}

/** The value is a Russian BIK: 9 digits starting with 04. */
export function IsBik(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isBik',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: '$property must be a valid BIK (9 digits starting with 04)', ...options },
      validator: { validate: (v: unknown) => typeof v === 'string' && isValidBik(v) },
    });
}

/**
 * The value is a 20-digit account whose control key matches the BIK in `bikProperty`.
 * When the BIK itself is invalid the BIK field reports the error, not this one.
 */
export function IsAccountForBik(bikProperty: string, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isAccountForBik',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [bikProperty],
      options: {
        message: '$property must be a 20-digit account that passes the control key for its BIK',
        ...options,
      },
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          if (typeof value !== 'string' || !/^\d{20}$/.test(value)) return false;
          const bik = (args.object as Record<string, unknown>)[bikProperty];
          if (typeof bik !== 'string' || !isValidBik(bik)) return true;
          return isValidAccountForBik(value, bik);
        },
      },
    });
}

/**
 * class-transformer `@Transform` for numbers sent as JSON numbers or decimal strings
 * (`"50000"`, `"250.50"`). Anything else (`""`, `"abc"`, `"0x10"`, `"1e3"`, `null`, `true`) is
 * left as it is, so the number validator rejects it and names the field; `Number()` alone would
 * read `"0x10"` as 16 and `@Type(() => Number)` would turn `""` into 0 and `true` into 1.
 */
export const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.length <= MAX_NUMBER_TEXT && DECIMAL_TEXT.test(value) ? Number(value) : value;

/**
 * A decimal with one way to read each digit (`\d+\.?\d*` split a run of digits every way it
 * could: 80,000 digits then an `x` held the validation pipe for 11 s, a 1 MB body for half an
 * hour), on at most MAX_NUMBER_TEXT characters.
 */
const DECIMAL_TEXT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*$/;
/** Longer than any amount a field takes (a ruble sum's 16 digits with kopecks and padding). */
const MAX_NUMBER_TEXT = 64;

/**
 * A whole calendar date first (`2025-09-22`, or `20250922` where `basic`), from year 1, then
 * optionally a time as ISO 8601 has it: what PostgreSQL takes as a date or a timestamptz. An
 * ISO 8601 check alone also takes `2025`, `2025-W05`, `2025-001`, which PostgreSQL refuses.
 */
const ISO_DATE_FIRST = { extended: /^(?!0000)\d{4}-\d{2}-\d{2}([T ].+)?$/, basic: /^(?!0000)(\d{4}-\d{2}-\d{2}|\d{8})([T ].+)?$/ };

/**
 * A date or date-time as above that is a real one (no 30 February, no hour 25): a 400 naming the
 * field instead of PostgreSQL's refusal (a 500). Fractions of any length and offsets of hours
 * alone (`+03`) are ISO 8601 and PostgreSQL's too. `basic`: also `20250922` (a list's range; a
 * payment's date is cut to its first 10 characters, so it must be `YYYY-MM-DD`).
 */
export function IsIsoDate(message: string, o: { basic?: boolean } = {}): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    IsString({ message })(target, key);
    Matches(o.basic ? ISO_DATE_FIRST.basic : ISO_DATE_FIRST.extended, { message })(target, key);
    IsISO8601({ strict: true }, { message })(target, key);
  };
}

/**
 * For an optional field that has no "null" meaning: left out, it is not validated (as with
 * `@IsOptional()`); sent as `null`, the field's other validators run and reject it, naming the
 * field. `@IsOptional()` would let `null` through to the service and the database.
 */
export const IsOmittable = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/**
 * A number of rubles with at most two decimals that is a whole number of kopecks. class-validator's
 * `maxDecimalPlaces` reads the decimals from `String(value)` and threw on `1e-7` (no "."): a 500.
 */
export function IsRubles(message: string): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isRubles',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'number' || !Number.isFinite(value)) return false;
          try {
            rublesToKopecks(value);
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}

/**
 * class-transformer `@Transform` for an optional text field: trimmed, and blank (`""`, what a form
 * sends for an empty field) taken as left out, so what a look-up gives (an address, a director)
 * fills it instead of an empty string, and an empty phone or KPP is not a 400.
 */
export const trimOrOmit = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
};

const lowerCase = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

/**
 * An id: a UUID, taken in lower case (as PostgreSQL prints it, as events and Kafka keys carry
 * it), so `5FEDB923-…` from a client that writes them in capitals names the same row and the
 * same aggregate as `5fedb923-…`. `each`: an array of them.
 */
export function IsId(message: string, o: { each?: boolean } = {}): PropertyDecorator {
  const transform = Transform(({ value }: { value: unknown }) => (o.each && Array.isArray(value) ? value.map(lowerCase) : lowerCase(value)));
  const validate = IsUUID('all', { message, each: o.each });
  return (target, propertyName) => {
    transform(target, propertyName);
    validate(target, propertyName);
  };
}
