import type { ContractorSnapshot, LineItem, OrganizationSnapshot } from '@papka/contracts';
import {
  amountInWords,
  baseVatRate,
  formatRuDate,
  formatRuDateShort,
  invoiceTotals,
  isKopecks,
  isVatRate,
  moscowCalendarDate,
  formatRubles,
  vatIncluded,
  vatLabel,
  vatRateSince,
  vatPurposeClause,
  cutToCharacters,
  type InvoiceTotals,
  type VatMode,
  type VatRate,
} from '@papka/ru';
import { validateMasks, type MaskValidation } from '../engine/masks';
import { BUILTIN_MASKS, type BuiltinKind } from './builtin-masks';
import { contractorParty, organizationParty, type PartyBlock } from './parties';
import { invoicePaymentQr } from './payment-qr';

export interface TemplateDataInput {
  masks: Record<string, unknown>;
  contractor: ContractorSnapshot | null;
  organization: OrganizationSnapshot | null;
  /** The document's sum in kopecks; the contract's price when its `sum` mask is empty. */
  sum?: number;
  /** "Today" for a missing date mask; injectable for tests. */
  now?: Date;
}

/** Mask values a built-in template cannot work with; `errors` is keyed like validateMasks'. */
export class TemplateDataError extends Error {
  override readonly name = 'TemplateDataError';
  constructor(readonly errors: Record<string, string[]>) {
    super(`Invalid template data: ${Object.values(errors)[0]?.[0] ?? 'see errors'}`);
  }
}

/**
 * validateMasks with the built-in's mask definitions, plus what a MaskDef
 * cannot express: vatRate is one of 22, 20, 10, 7, 5, 0, "none" and vatMode is
 * "on-top" or "included". Use it when a document is created from a built-in,
 * so a bad rate is a 400 then rather than a failed render later.
 */
export function validateBuiltinMasks(kind: BuiltinKind, values: Record<string, unknown> | null | undefined): MaskValidation {
  const checked = validateMasks(BUILTIN_MASKS[kind], values);
  if (!checked.ok || kind === 'letter') return checked;
  const errors: Record<string, string[]> = {};
  const rate = checked.values['vatRate'];
  if (rate !== undefined && parseVatRate(rate) === null) errors['masks.vatRate'] = ['vatRate must be one of 22, 20, 10, 7, 5, 0, none'];
  const mode = checked.values['vatMode'];
  if (mode !== undefined && mode !== 'on-top' && mode !== 'included') errors['masks.vatMode'] = ['vatMode must be on-top or included'];
  return Object.keys(errors).length > 0 ? { ok: false, errors } : checked;
}

/**
 * What a new built-in document may not say, beyond its masks' own checks (for the constructor
 * only: a document stored before a rule came in still renders): a due date before the document's
 * date (a dateless document is dated `at`, as its render dates it), the 22 % rate on a date before
 * it existed (1 January 2026), or a payment purpose that, with its VAT clause, is longer than a
 * payment order's field 24 and the QR's Purpose hold (210 characters).
 */
export function checkNewBuiltinMasks(kind: BuiltinKind, masks: Record<string, unknown>, at: Date): Record<string, string[]> | null {
  if (kind === 'letter') return null;
  const errors: Record<string, string[]> = {};
  const date = documentDate(masks, at);
  const due = typeof masks['dueDate'] === 'string' ? masks['dueDate'] : null;
  if (due && isoDay(due) < date) errors['masks.dueDate'] = [`dueDate must not be before the document's date (${formatRuDateShort(date)})`];
  const rate = parseVatRate(masks['vatRate']);
  const since = rate === null ? null : vatRateSince(rate);
  if (rate === 22 && baseVatRate(date) !== 22) errors['masks.vatRate'] = ['vatRate 22 applies from 1 January 2026; the base rate before it is 20'];
  else if (rate !== null && since !== null && isoDay(date) < since) errors['masks.vatRate'] = [`vatRate ${rate} applies from ${formatRuDateShort(since)}`];
  const given = text(masks['purpose']);
  if (kind === 'invoice' && given && !errors['masks.vatRate']) {
    const money = linesAndTotals(masks, date);
    const length = Array.from(invoicePurpose(given, money.vatRate, money.totals.vat).purpose).length;
    if (length > QR_PURPOSE_MAX) {
      errors['masks.purpose'] = [`purpose must fit ${QR_PURPOSE_MAX} characters with its VAT clause (a payment order's purpose); it has ${length}`];
    }
  }
  return Object.keys(errors).length > 0 ? errors : null;
}

/**
 * The masks a built-in is stored with: an invoice, act or contract that names no VAT rate takes
 * the organisation's default, so the document's `sum` and every later render of it print the same
 * VAT whatever the organisation's setting becomes. Without a default the rate stays unnamed: the
 * base rate of the document's date. A default of 22 % on a date before 2026 (when it did not
 * exist) is not taken either.
 */
export function withOrganizationVat(kind: BuiltinKind, masks: Record<string, unknown>, organizationVatRate: string | null, at: Date): Record<string, unknown> {
  if (kind === 'letter' || masks['vatRate'] !== undefined || organizationVatRate === null) return masks;
  const rate = parseVatRate(organizationVatRate);
  if (rate === null || (rate === 22 && baseVatRate(documentDate(masks, at)) !== 22)) return masks;
  return { ...masks, vatRate: organizationVatRate };
}

/** The document's date mask as "YYYY-MM-DD", else the Moscow day of `at` (what its render prints). */
function documentDate(masks: Record<string, unknown>, at: Date): string {
  return isoDay(typeof masks['date'] === 'string' ? masks['date'] : at);
}

/**
 * Everything a built-in template prints, computed here rather than in the
 * template so that totals, VAT and the QR are exact and tested. Every kind
 * gets `masks` (the validated values), `number`, `date` ("YYYY-MM-DD"),
 * `organization` (our side: Поставщик / Исполнитель / sender) and `contractor`
 * (Покупатель / Заказчик / addressee) as PartyBlocks; see the comment at the
 * top of each .hbs file for the rest. Missing requisites do not throw: the
 * party block says they are not filled in and the invoice has no QR.
 */
export async function buildTemplateData(kind: BuiltinKind, input: TemplateDataInput): Promise<Record<string, unknown>> {
  const checked = validateBuiltinMasks(kind, input.masks);
  if (!checked.ok) throw new TemplateDataError(checked.errors);
  const masks = checked.values;
  const date = typeof masks['date'] === 'string' ? masks['date'] : isoDay(input.now ?? new Date());
  const common = {
    kind,
    masks,
    number: text(masks['number']),
    date,
    // "5 июня 2026 г." for an invoice's or act's heading, as 1С prints it; «5» is a contract's.
    dateText: formatRuDate(date, { quotes: false }),
    organization: organizationParty(input.organization),
    contractor: contractorParty(input.contractor),
  };
  switch (kind) {
    case 'invoice':
      return invoiceData(common, masks);
    case 'act':
      return { ...common, ...linesAndTotals(masks, date), basis: text(masks['basis']) };
    case 'contract':
      return contractData(common, masks, input.sum);
    case 'letter':
      return letterData(common, masks);
  }
}

interface Common {
  kind: BuiltinKind;
  masks: Record<string, unknown>;
  number: string | null;
  date: string;
  dateText: string;
  organization: PartyBlock;
  contractor: PartyBlock;
}

/** ГОСТ Р 56042's longest Purpose, and a payment order's field 24. */
const QR_PURPOSE_MAX = 210;

function invoiceData(common: Common, masks: Record<string, unknown>): Record<string, unknown> {
  const money = linesAndTotals(masks, common.date);
  const given = text(masks['purpose']) ?? `Оплата по счёту № ${common.number ?? ''} от ${formatRuDateShort(common.date)}`;
  const { purpose, qrPurpose } = invoicePurpose(given, money.vatRate, money.totals.vat);
  const qr = invoicePaymentQr(common.organization, money.totals.total, qrPurpose);
  return { ...common, ...money, purpose, dueDate: text(masks['dueDate']), qr };
}

/** НДС as a word of its own (not "налоговый", not inside another word). */
const NAMES_VAT = /(?<![\p{L}\d])ндс(?![\p{L}])/iu;

/**
 * The purpose with what it must say of the payment's VAT, unless the given text already names
 * НДС; and the same for the QR, within its 210 characters: a new document's own purpose is
 * checked to fit (checkNewBuiltinMasks), so only the default one (a very long number) or one
 * stored before that check is cut, at a word, its VAT clause kept whole.
 */
function invoicePurpose(raw: string, rate: VatRate, vatKopecks: number): { purpose: string; qrPurpose: string } {
  // Counted as the QR counts it (sanitizeQrValue composes a decomposed "й" into one character).
  const given = raw.normalize('NFC');
  const clause = NAMES_VAT.test(given) ? null : vatPurposeClause(rate, vatKopecks);
  const purpose = withClause(given, clause);
  if (Array.from(purpose).length <= QR_PURPOSE_MAX) return { purpose, qrPurpose: purpose };
  const room = QR_PURPOSE_MAX - (clause ? Array.from(clause).length + 2 : 0);
  return { purpose, qrPurpose: withClause(cutAtWord(given, room), clause) };
}

function withClause(purpose: string, clause: string | null): string {
  if (!clause) return purpose;
  const text = purpose.replace(/(?<![\s.,;:])[\s.,;:]+$/u, '');
  if (!text) return clause;
  return /[!?…]$/u.test(text) ? `${text} ${clause}` : `${text}. ${clause}`;
}

/** At most `max` characters (whole graphemes, `cutToCharacters`), back to the last space when one is near. */
function cutAtWord(value: string, max: number): string {
  if (Array.from(value).length <= max) return value;
  const cut = cutToCharacters(value, Math.max(0, max));
  const space = cut.search(/\s\S*$/u);
  return (space >= cut.length - 30 && space > 0 ? cut.slice(0, space) : cut).replace(/(?<![\s.,;:])[\s.,;:]+$/u, '');
}

function linesAndTotals(masks: Record<string, unknown>, date: string) {
  const rate = vatRateOf(masks['vatRate'], date);
  const mode = vatModeOf(masks['vatMode']);
  const items = masks['lines'] as LineItem[];
  let totals: InvoiceTotals;
  try {
    totals = invoiceTotals(items.map((l) => ({ quantity: l.quantity, priceKopecks: l.price })), rate, mode);
  } catch (error) {
    // Only sums beyond 2^53 kopecks get here; validated lines are otherwise well-formed.
    if (error instanceof RangeError) throw new TemplateDataError({ 'masks.lines': [error.message] });
    throw error;
  }
  const label = vatLabel(rate);
  return {
    lines: items.map((line, i) => ({
      n: i + 1,
      title: line.title,
      measure: line.measure,
      quantity: line.quantity,
      quantityText: String(line.quantity).replace('.', ','),
      price: line.price,
      sum: totals.lines[i].sumKopecks,
    })),
    lineCount: items.length,
    vatRate: rate,
    vatMode: mode,
    vatLabel: label,
    // "В том числе" only when the VAT is inside the prices; "Без НДС" has no amount.
    vatLine: {
      label: rate === 'none' ? label : mode === 'included' ? `В том числе ${label}` : label,
      hasAmount: rate !== 'none',
      amount: rate === 'none' ? null : totals.vatKopecks,
    },
    totals: { net: totals.netKopecks, vat: totals.vatKopecks, total: totals.totalKopecks },
    // "Итого" is the lines' sum: without VAT on top, with it when included.
    subtotal: mode === 'included' ? totals.totalKopecks : totals.netKopecks,
    totalWords: amountInWords(totals.totalKopecks),
  };
}

function contractData(common: Common, masks: Record<string, unknown>, documentSum: number | undefined): Record<string, unknown> {
  const sum = typeof masks['sum'] === 'number' ? masks['sum'] : isKopecks(documentSum) && documentSum > 0 ? documentSum : null;
  const paymentTerms = text(masks['paymentTerms']);
  // A price that says nothing of VAT is read as including it (Пленум ВАС № 33, п. 17): say it.
  const rate = vatRateOf(masks['vatRate'], common.date);
  const vatClause =
    rate === 'none'
      ? 'НДС не облагается.'
      : sum === null
        ? `включая НДС по ставке ${rate}%.`
        : `в том числе ${vatLabel(rate)} — ${formatRubles(vatIncluded(sum, rate))} руб.`;
  return {
    ...common,
    vatRate: rate,
    vatClause,
    city: text(masks['city']) ?? 'г. Москва',
    subject: paragraphs(masks['subject']),
    sum,
    sumWords: sum === null ? null : amountInWords(sum),
    // The template ends the sentence itself: "до 31.12.2026." must not become "..2026..".
    term: text(masks['term'])?.replace(/(?<![\s.])[\s.]+$/u, '') || null,
    paymentTerms: paymentTerms
      ? paragraphs(paymentTerms)
      : ['Заказчик оплачивает услуги в течение 5 (пяти) рабочих дней с даты выставления Исполнителем счёта.'],
  };
}

function letterData(common: Common, masks: Record<string, unknown>): Record<string, unknown> {
  return {
    ...common,
    subject: text(masks['subject']),
    paragraphs: paragraphs(masks['body']),
    signerPost: text(masks['signerPost']) ?? common.organization.directorPost,
    signerName: text(masks['signerName']) ?? common.organization.directorShort,
  };
}

/**
 * The total of a built-in invoice or act exactly as its render prints it (and puts in its payment
 * QR): its lines, its VAT rate and mode or their defaults for its date (the base rate then in
 * force, on top); a contract's, its `sum` mask. Kopecks; null without either. For the document's `sum`
 * when the caller gives none.
 */
export function builtinTotalKopecks(masks: Record<string, unknown>, now: Date): number | null {
  const items = masks['lines'];
  // A contract has no lines: its price is its `sum` mask (kopecks once validated), as it prints.
  if (!Array.isArray(items) || items.length === 0) return isKopecks(masks['sum']) && masks['sum'] >= 0 ? masks['sum'] : null;
  const date = typeof masks['date'] === 'string' ? masks['date'] : isoDay(now);
  try {
    return invoiceTotals((items as LineItem[]).map((l) => ({ quantity: l.quantity, priceKopecks: l.price })), vatRateOf(masks['vatRate'], date), vatModeOf(masks['vatMode'])).totalKopecks;
  } catch {
    return null;
  }
}

// Both were checked by validateBuiltinMasks; absent means the defaults.
function vatRateOf(value: unknown, date: string): VatRate {
  return value === undefined ? baseVatRate(date) : (parseVatRate(value) as VatRate);
}

function vatModeOf(value: unknown): VatMode {
  return value === undefined ? 'on-top' : (value as VatMode);
}

function parseVatRate(value: unknown): VatRate | null {
  const rate = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return isVatRate(rate) ? rate : null;
}

/** Text with line breaks -> one paragraph per non-empty line (each escaped by the template). */
function paragraphs(value: unknown): string[] {
  return typeof value === 'string'
    ? value
        .split(/\r?\n/)
        .map((p) => p.trim())
        .filter((p) => p !== '')
    : [];
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

function isoDay(now: Date | string): string {
  const { year, month, day } = moscowCalendarDate(now);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
