import { isValidAccountForBik, isValidBik, isValidInn } from '@papka/ru';
import {
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
 * class-transformer `@Transform` for numbers sent as JSON numbers or numeric strings
 * (`"50000"`). Anything else (`""`, `"abc"`, `null`, `true`) is left as it is, so the number
 * validator rejects it and names the field; `@Type(() => Number)` would turn `""` into 0.
 */
export const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;

/**
 * For an optional field that has no "null" meaning: left out, it is not validated (as with
 * `@IsOptional()`); sent as `null`, the field's other validators run and reject it, naming the
 * field. `@IsOptional()` would let `null` through to the service and the database.
 */
export const IsOmittable = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);
