import { moscowCalendarDate } from './dates';
import { assertKopecks, type Kopecks } from './money';

/**
 * НДС rates: 22 (base from 2026-01-01), 20 (base before), 10 (reduced),
 * 5 and 7 (simplified-tax payers' special rates), 0 (export), and 'none' for
 * "Без НДС" (not a VAT payer), which differs from 0 % on documents.
 */
export type VatRate = 22 | 20 | 10 | 5 | 7 | 0 | 'none';

export const VAT_RATES: readonly VatRate[] = [22, 20, 10, 7, 5, 0, 'none'];

export function isVatRate(value: unknown): value is VatRate {
  return (VAT_RATES as readonly unknown[]).includes(value);
}

/**
 * Base VAT rate in force on a date (Moscow calendar): 22 % from 2026-01-01
 * (the 2025 tax reform), 20 % before. The 18 % era (before 2019) is deliberately
 * not modelled: the platform does not issue documents dated that far back.
 */
export function baseVatRate(date: Date | string): 20 | 22 {
  return moscowCalendarDate(date).year >= 2026 ? 22 : 20;
}

/**
 * The first day (Moscow calendar, YYYY-MM-DD) a rate could be charged, for rates that have not
 * always existed: 22 % from 2026 (the base rate before it was 20 %), the УСН payer's 5 % and 7 %
 * from 2025 (Федеральный закон № 176-ФЗ). Null: in force on any date the platform issues.
 */
export function vatRateSince(rate: VatRate): string | null {
  if (rate === 22) return '2026-01-01';
  if (rate === 5 || rate === 7) return '2025-01-01';
  return null;
}

export function vatLabel(rate: VatRate): string {
  return rate === 'none' ? 'Без НДС' : `НДС ${rate}%`;
}

/**
 * What a payment's purpose must say of its VAT (Tax Code art. 168 п. 4, Bank of Russia
 * 762-П field 24): the amount in the payment, or that there is none. Amounts as payment
 * orders write them, without group separators: "В т.ч. НДС 22% - 2200,00 руб.".
 */
export function vatPurposeClause(rate: VatRate, vatKopecks: number): string {
  if (rate === 'none') return 'НДС не облагается';
  const rest = vatKopecks % 100;
  return `В т.ч. НДС ${rate}% - ${(vatKopecks - rest) / 100},${String(rest).padStart(2, '0')} руб.`;
}

function percent(rate: VatRate): bigint {
  if (!isVatRate(rate)) throw new RangeError(`Unknown VAT rate: ${String(rate)}`);
  return rate === 'none' ? 0n : BigInt(rate);
}

/**
 * numerator / denominator rounded half away from zero (commercial rounding,
 * so a refund rounds symmetrically with the sale). BigInt because
 * amount * rate can exceed 2^53 for large but still safe amounts.
 */
function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (2n * n + d) / (2n * d);
  return negative ? -q : q;
}

function toKopecks(value: bigint, what: string): Kopecks {
  const result = Number(value);
  assertKopecks(result, what);
  return result;
}

/** VAT contained in a gross amount: total * rate / (100 + rate), rounded half-up. */
export function vatIncluded(totalKopecks: Kopecks, rate: VatRate): Kopecks {
  assertKopecks(totalKopecks, 'totalKopecks');
  const p = percent(rate);
  return toKopecks(divideRounded(BigInt(totalKopecks) * p, 100n + p), 'VAT');
}

/** VAT charged on top of a net amount: net * rate / 100, rounded half-up. */
export function vatOnTop(netKopecks: Kopecks, rate: VatRate): Kopecks {
  assertKopecks(netKopecks, 'netKopecks');
  return toKopecks(divideRounded(BigInt(netKopecks) * percent(rate), 100n), 'VAT');
}

export interface InvoiceLineInput {
  /** Non-negative, at most 3 decimals (e.g. 1.5 kg, 0.125 t). */
  quantity: number;
  priceKopecks: Kopecks;
}

export interface InvoiceTotals {
  lines: { sumKopecks: Kopecks }[];
  netKopecks: Kopecks;
  vatKopecks: Kopecks;
  totalKopecks: Kopecks;
}

/** 'included': prices are gross (VAT inside); 'on-top': prices are net. */
export type VatMode = 'included' | 'on-top';

const QUANTITY_PATTERN = /^\d+(?:\.(\d{1,3}))?$/;

// Quantity is scaled to integer thousandths through its shortest decimal
// form, so 1.005 * price is computed exactly rather than as 1.00499999...
function quantityInThousandths(quantity: number, index: number): bigint {
  const text = Number.isFinite(quantity) ? String(quantity) : '';
  const match = QUANTITY_PATTERN.exec(text);
  if (!match) {
    throw new RangeError(`lines[${index}].quantity must be a non-negative number with at most 3 decimals, got ${quantity}`);
  }
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole) * 1000n + BigInt(fraction.padEnd(3, '0'));
}

/**
 * Line sums and document totals. VAT is computed once on the document total
 * (the "в том числе НДС" / "НДС" line of a счёт), not summed per line, so the
 * totals never drift by accumulated per-line rounding.
 */
export function invoiceTotals(lines: readonly InvoiceLineInput[], rate: VatRate, mode: VatMode): InvoiceTotals {
  const sums = lines.map((line, index) => {
    assertKopecks(line.priceKopecks, `lines[${index}].priceKopecks`);
    const sum = divideRounded(quantityInThousandths(line.quantity, index) * BigInt(line.priceKopecks), 1000n);
    return toKopecks(sum, `lines[${index}] sum`);
  });
  const linesTotal = toKopecks(
    sums.reduce((acc, sum) => acc + BigInt(sum), 0n),
    'lines total',
  );

  if (mode === 'included') {
    const vatKopecks = vatIncluded(linesTotal, rate);
    return { lines: sums.map(toLine), netKopecks: linesTotal - vatKopecks, vatKopecks, totalKopecks: linesTotal };
  }
  if (mode === 'on-top') {
    const vatKopecks = vatOnTop(linesTotal, rate);
    const totalKopecks = toKopecks(BigInt(linesTotal) + BigInt(vatKopecks), 'total');
    return { lines: sums.map(toLine), netKopecks: linesTotal, vatKopecks, totalKopecks };
  }
  throw new RangeError(`Unknown VAT mode: ${String(mode)}`);
}

function toLine(sumKopecks: Kopecks): { sumKopecks: Kopecks } {
  return { sumKopecks };
}
