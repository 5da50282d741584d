import type { HelperDelegate } from 'handlebars';
import {
  amountInWords,
  formatRubles,
  formatRuDate,
  formatRuDateShort,
  isKopecks,
  isVatRate,
  vatLabel,
  type VatRate,
} from '@papka/ru';

/**
 * The only helpers a template (built-in or uploaded) can call, besides
 * Handlebars' block helpers `if`, `unless`, `each`, `with` and `lookup`:
 *
 *   {{money sum}}        kopecks -> "50 000,00" (U+00A0 between groups)
 *   {{words sum}}        kopecks -> "Пятьдесят тысяч рублей 00 копеек"
 *   {{ruDate date}}      "2026-06-05" -> "«5» июня 2026 г."
 *   {{shortDate date}}   "2026-06-05" -> "05.06.2026"
 *   {{vatLabel rate}}    22 | "22" | "none" -> "НДС 22%" | "Без НДС"
 *   {{inc @index}}       0 -> 1 (row numbers in {{#each}})
 *   {{#if (eq a b)}}     strict equality, for sub-expressions
 *
 * Empty values (null, undefined, "") render as "" so optional masks can be
 * left out; a value of the wrong type throws, which the engine reports as a
 * TemplateRenderError naming the helper, instead of printing a wrong amount.
 */
export const TEMPLATE_HELPERS = {
  money: (value: unknown) => (isEmpty(value) ? '' : formatRubles(kopecks(value, 'money'))),
  words: (value: unknown) => (isEmpty(value) ? '' : amountInWords(kopecks(value, 'words'))),
  ruDate: (value: unknown) => (isEmpty(value) ? '' : formatRuDate(dateInput(value, 'ruDate'))),
  shortDate: (value: unknown) => (isEmpty(value) ? '' : formatRuDateShort(dateInput(value, 'shortDate'))),
  vatLabel: (value: unknown) => (isEmpty(value) ? '' : vatLabel(vatRate(value))),
  inc: (value: unknown) => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new TypeError(`inc expects a number, got ${describe(value)}`);
    return n + 1;
  },
  // Helpers receive Handlebars' options object last; eq compares only the two operands.
  eq: (a: unknown, b: unknown) => a === b,
} satisfies Record<string, HelperDelegate>;

export type TemplateHelperName = keyof typeof TEMPLATE_HELPERS;

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

function kopecks(value: unknown, helper: string): number {
  // Kopecks only: accepting "1500.50" here would make 1500.50 and 150050 mean
  // different things in different places. Masks are normalised to kopecks upstream.
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (!isKopecks(n)) throw new TypeError(`${helper} expects integer kopecks, got ${describe(value)}`);
  return n;
}

function dateInput(value: unknown, helper: string): Date | string {
  if (value instanceof Date || typeof value === 'string') return value;
  throw new TypeError(`${helper} expects a date string, got ${describe(value)}`);
}

function vatRate(value: unknown): VatRate {
  const rate = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!isVatRate(rate)) throw new TypeError(`vatLabel expects one of 22, 20, 10, 7, 5, 0, "none", got ${describe(value)}`);
  return rate;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
