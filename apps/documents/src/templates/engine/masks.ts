import type { LineItem, MaskDef } from '@papka/contracts';
import { isKopecks, moscowCalendarDate, rublesToKopecks } from '@papka/ru';

/** Longest string/text mask value: a letter body fits easily, a pasted novel does not. */
export const MAX_TEXT_LENGTH = 10_000;
/** Enough for any real invoice; bounds the rendered HTML and the render time. */
export const MAX_LINES = 500;

export type MaskValues = Record<string, unknown>;

export type MaskValidation = { ok: true; values: MaskValues } | { ok: false; errors: Record<string, string[]> };

/**
 * Checks mask values against a template's mask definitions and normalises
 * them: number -> number, money -> integer kopecks (a rubles string such as
 * "1500.50" is converted), date -> "YYYY-MM-DD" (Moscow calendar day), lines ->
 * LineItem[] with kopeck prices, boolean -> boolean, string/text -> string.
 *
 * Missing optional masks are left out of `values`; keys with no definition are
 * ignored (not copied), so a template only ever sees values that were checked.
 * Errors are keyed `masks.<id>`, in the API's `{ "field": [messages] }` shape.
 */
export function validateMasks(defs: readonly MaskDef[], values: MaskValues | null | undefined): MaskValidation {
  const input: MaskValues = values && typeof values === 'object' && !Array.isArray(values) ? values : {};
  const errors: Record<string, string[]> = {};
  const out: MaskValues = {};
  for (const def of defs) {
    const raw = Object.prototype.hasOwnProperty.call(input, def.id) ? input[def.id] : undefined;
    const key = `masks.${def.id}`;
    if (isMissing(raw)) {
      if (def.required) errors[key] = [`${def.id} is required`];
      continue;
    }
    const result = normalize(def, raw);
    if (result.errors.length > 0) errors[key] = result.errors;
    else out[def.id] = result.value;
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, values: out };
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

interface Normalized {
  value?: unknown;
  errors: string[];
}

const ok = (value: unknown): Normalized => ({ value, errors: [] });
const fail = (...errors: string[]): Normalized => ({ errors });

function normalize(def: MaskDef, raw: unknown): Normalized {
  const id = def.id;
  switch (def.type) {
    case 'string':
    case 'text': {
      // Numbers are accepted because API clients send invoice numbers as 15 as often as "15".
      const text = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
      if (typeof text !== 'string') return fail(`${id} must be a string`);
      if (text.length > MAX_TEXT_LENGTH) return fail(`${id} must be at most ${MAX_TEXT_LENGTH} characters`);
      return ok(def.type === 'string' ? text.trim() : text);
    }
    case 'number': {
      const n = typeof raw === 'string' ? parseNumber(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n)) return fail(`${id} must be a number`);
      return ok(n);
    }
    case 'money':
      return money(id, raw);
    case 'date':
      return date(id, raw);
    case 'boolean':
      if (typeof raw === 'boolean') return ok(raw);
      if (raw === 'true' || raw === 'false') return ok(raw === 'true');
      return fail(`${id} must be a boolean`);
    case 'lines':
      return lines(id, raw);
    default: {
      const unknownType: never = def.type;
      return fail(`${id} has an unsupported mask type ${String(unknownType)}`);
    }
  }
}

function parseNumber(text: string): number | undefined {
  const t = text.trim().replace(',', '.');
  return /^-?\d+(?:\.\d+)?$/.test(t) ? Number(t) : undefined;
}

function money(id: string, raw: unknown): Normalized {
  if (typeof raw === 'number') {
    // A number is kopecks (the API's money convention); 1500.5 is a mistake, not rubles.
    if (!isKopecks(raw) || raw < 0) return fail(`${id} must be a non-negative integer number of kopecks`);
    return ok(raw);
  }
  if (typeof raw === 'string') {
    let kopecks: number;
    try {
      kopecks = rublesToKopecks(raw);
    } catch {
      return fail(`${id} must be an amount in rubles with at most two decimals, e.g. "1500.50"`);
    }
    return kopecks < 0 ? fail(`${id} must not be negative`) : ok(kopecks);
  }
  return fail(`${id} must be integer kopecks or a rubles string`);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})$/i;

function date(id: string, raw: unknown): Normalized {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (!ISO_DATE.test(text) && !ISO_TIMESTAMP.test(text)) {
    return fail(`${id} must be an ISO date (YYYY-MM-DD or a timestamp with a time zone)`);
  }
  try {
    // Documents are dated by the Moscow day, so a timestamp is reduced to it here, once.
    const { year, month, day } = moscowCalendarDate(text);
    return ok(`${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`);
  } catch {
    return fail(`${id} is not a valid date`);
  }
}

// invoiceTotals takes quantities with at most 3 decimals (1.5 kg, 0.125 t).
const QUANTITY = /^\d+(?:\.\d{1,3})?$/;

function lines(id: string, raw: unknown): Normalized {
  if (!Array.isArray(raw) || raw.length === 0) return fail(`${id} must be a non-empty array of lines`);
  if (raw.length > MAX_LINES) return fail(`${id} must have at most ${MAX_LINES} lines`);
  const errors: string[] = [];
  const items: LineItem[] = [];
  raw.forEach((line: unknown, i) => {
    const at = `${id}[${i}]`;
    if (!line || typeof line !== 'object' || Array.isArray(line)) {
      errors.push(`${at} must be an object {title, measure, quantity, price}`);
      return;
    }
    const { title, measure, quantity, price } = line as Record<string, unknown>;
    const before = errors.length;
    if (typeof title !== 'string' || title.trim() === '') errors.push(`${at}.title must be a non-empty string`);
    else if (title.length > MAX_TEXT_LENGTH) errors.push(`${at}.title must be at most ${MAX_TEXT_LENGTH} characters`);
    if (measure !== undefined && measure !== null && typeof measure !== 'string') errors.push(`${at}.measure must be a string`);
    else if (typeof measure === 'string' && measure.length > 50) errors.push(`${at}.measure must be at most 50 characters`);
    const q = typeof quantity === 'string' ? parseNumber(quantity) : quantity;
    if (typeof q !== 'number' || !Number.isFinite(q) || q <= 0) errors.push(`${at}.quantity must be a number greater than 0`);
    else if (!QUANTITY.test(String(q))) errors.push(`${at}.quantity must have at most 3 decimals`);
    if (!isKopecks(price) || price < 0) errors.push(`${at}.price must be a non-negative integer number of kopecks`);
    if (errors.length === before) {
      items.push({ title: (title as string).trim(), measure: typeof measure === 'string' ? measure.trim() : '', quantity: q as number, price: price as number });
    }
  });
  return errors.length > 0 ? fail(...errors) : ok(items);
}
