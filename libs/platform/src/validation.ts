import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ValidationFailedError } from './errors';
import { checkInput } from './input-guard';

/**
 * Flattens class-validator's tree into `{ "field.path": [messages] }`. A required field left out
 * is said to be required: its validators' own messages described a value it does not have ("sum
 * must not be greater than 1000000000000" for a sum never sent).
 */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const missing = 'value' in e && e.value === undefined && !('whitelistValidation' in (e.constraints ?? {}));
    if (e.constraints) out[path] = missing ? [`${path} is required`] : Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, flattenValidationErrors(e.children, path));
  }
  return out;
}

/**
 * The ValidationPipe, after a check of every body, query and path parameter whatever its
 * type (a DTO, `unknown`, a plain string): nesting past MAX_INPUT_DEPTH or a NUL character
 * anywhere is a 400 naming the field, before class-transformer could overflow the stack or
 * PostgreSQL could refuse the text (checkInput).
 */
class GuardedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'param') {
      // A parameter taken by name (`@Param('id')`, `@Body('name')`) is reported by that name.
      const problem = checkInput(value, { name: metadata.data, root: metadata.type });
      if (problem) throw problem;
    }
    return super.transform(value, metadata);
  }
}

/** Whitelisting pipe: unknown fields are rejected, each error names its field. */
export const validationPipe = () =>
  new GuardedValidationPipe({
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
