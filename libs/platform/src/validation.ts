import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidationFailedError } from './errors';

/** Flattens class-validator's tree into `{ "field.path": [messages] }`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints) out[path] = Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, flattenValidationErrors(e.children, path));
  }
  return out;
}

/** Whitelisting pipe: unknown fields are rejected, each error names its field. */
export const validationPipe = () =>
  new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const fields = flattenValidationErrors(errors);
      const first = Object.values(fields)[0]?.[0];
      return new ValidationFailedError(fields, first ? `Validation failed: ${first}` : 'Validation failed');
    },
  });
