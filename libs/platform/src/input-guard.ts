import { fieldError, type ValidationFailedError } from './errors';

/** How deep a request body may nest objects and arrays; real bodies of this API stay under 5. */
export const MAX_INPUT_DEPTH = 64;

/** What input would break a handler, and where: a dotted path as the validation errors use. */
export interface InputProblem {
  field: string;
  message: string;
}

export interface InputCheckOptions {
  /** The value is one named parameter (`@Body('masks')`): paths start with it. */
  name?: string;
  /** What to call the value itself when it is not named (`body`, `query`, `param`). */
  root?: string;
  maxDepth?: number;
}

const joinPath = (parent: string, key: string) => (parent ? `${parent}.${key}` : key);

/**
 * Finds the first thing in a parsed request value (body, query or params) that no handler can
 * take, without recursion, so a hostile body cannot overflow the stack:
 * - objects and arrays nested deeper than `maxDepth` (class-transformer and class-validator
 *   recurse, and 8,000 levels end in a RangeError); the field named is the top-level one;
 * - a NUL character (U+0000) in any string or key (PostgreSQL rejects 0x00 in text and jsonb);
 * - half of a UTF-16 surrogate pair alone (JSON's `"\ud83d"`): jsonb refuses it (22P02), text
 *   columns turn it into U+FFFD.
 * Returns undefined when the value is fine. The walk visits each node once.
 */
export function findInputProblem(value: unknown, opts: InputCheckOptions = {}): InputProblem | undefined {
  const root = opts.name ?? opts.root ?? 'body';
  const maxDepth = opts.maxDepth ?? MAX_INPUT_DEPTH;
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: opts.name ?? '', depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return nulProblem(path || root);
      if (!v.isWellFormed()) return surrogateProblem(path || root);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) {
      const top = path.split('.')[0] || root;
      return { field: top, message: `${top} is nested deeper than ${maxDepth} levels` };
    }
    // Pushed in reverse so the first field in the body is the one reported.
    const entries = Array.isArray(v) ? v.map((item, i) => [String(i), item] as const) : Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      const itemPath = joinPath(path, key);
      if (key.includes('\u0000')) return nulProblem(joinPath(path, key.replace(/\u0000/g, '\\u0000')));
      if (!key.isWellFormed()) return surrogateProblem(joinPath(path, key.toWellFormed()));
      stack.push({ value: item, path: itemPath, depth: depth + 1 });
    }
  }
  return undefined;
}

const nulProblem = (field: string): InputProblem => ({ field, message: `${field} must not contain the NUL character (\\u0000)` });
const surrogateProblem = (field: string): InputProblem => ({ field, message: `${field} must be well-formed Unicode (half of a surrogate pair, e.g. "\\ud83d" alone, is not a character)` });

/** findInputProblem as the 400 the API answers: VALIDATION_FAILED naming the field. */
export function checkInput(value: unknown, opts: InputCheckOptions = {}): ValidationFailedError | undefined {
  const problem = findInputProblem(value, opts);
  return problem ? fieldError(problem.field, problem.message) : undefined;
}
