import { assertKopecks, type Kopecks } from './money';

export type GrammaticalGender = 'masculine' | 'feminine';

/** Russian noun forms for 1, 2-4 and 5+ ("рубль", "рубля", "рублей"). */
export type PluralForms = readonly [one: string, few: string, many: string];

const UNITS: Record<GrammaticalGender, readonly string[]> = {
  masculine: ['', 'один', 'два', 'три', 'четыре', 'пять', 'шесть', 'семь', 'восемь', 'девять'],
  feminine: ['', 'одна', 'две', 'три', 'четыре', 'пять', 'шесть', 'семь', 'восемь', 'девять'],
};
const TEENS = [
  'десять', 'одиннадцать', 'двенадцать', 'тринадцать', 'четырнадцать',
  'пятнадцать', 'шестнадцать', 'семнадцать', 'восемнадцать', 'девятнадцать',
];
const TENS = ['', '', 'двадцать', 'тридцать', 'сорок', 'пятьдесят', 'шестьдесят', 'семьдесят', 'восемьдесят', 'девяносто'];
const HUNDREDS = ['', 'сто', 'двести', 'триста', 'четыреста', 'пятьсот', 'шестьсот', 'семьсот', 'восемьсот', 'девятьсот'];

interface Scale {
  forms: PluralForms;
  gender: GrammaticalGender;
}

// Index = power of 1000; quadrillions cover every safe integer.
const SCALES: readonly Scale[] = [
  { forms: ['', '', ''], gender: 'masculine' },
  { forms: ['тысяча', 'тысячи', 'тысяч'], gender: 'feminine' },
  { forms: ['миллион', 'миллиона', 'миллионов'], gender: 'masculine' },
  { forms: ['миллиард', 'миллиарда', 'миллиардов'], gender: 'masculine' },
  { forms: ['триллион', 'триллиона', 'триллионов'], gender: 'masculine' },
  { forms: ['квадриллион', 'квадриллиона', 'квадриллионов'], gender: 'masculine' },
];

const RUBLE: PluralForms = ['рубль', 'рубля', 'рублей'];
const KOPECK: PluralForms = ['копейка', 'копейки', 'копеек'];

/** Picks the noun form agreeing with n: 1/21/101 рубль, 2-4/22 рубля, 5-20/11-14/111 рублей. */
export function pluralRu(n: number, forms: PluralForms): string {
  const lastTwo = Math.abs(n) % 100;
  const last = lastTwo % 10;
  if (lastTwo >= 11 && lastTwo <= 14) return forms[2];
  if (last === 1) return forms[0];
  if (last >= 2 && last <= 4) return forms[1];
  return forms[2];
}

function triadWords(n: number, gender: GrammaticalGender): string[] {
  const words = [HUNDREDS[Math.floor(n / 100)]];
  const lastTwo = n % 100;
  if (lastTwo >= 10 && lastTwo < 20) {
    words.push(TEENS[lastTwo - 10]);
  } else {
    words.push(TENS[Math.floor(lastTwo / 10)], UNITS[gender][lastTwo % 10]);
  }
  return words.filter(Boolean);
}

/** Non-negative integer in lower-case Russian words, agreeing with the counted noun's gender. */
export function numberInWords(n: number, gender: GrammaticalGender = 'masculine'): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Expected a non-negative safe integer, got ${n}`);
  if (n === 0) return 'ноль';

  // Triads are cut from the decimal string: float division near 2^53 can
  // round a quotient up and produce a wrong triad.
  const digits = String(n);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const words: string[] = [];
  for (let offset = 0; offset < padded.length; offset += 3) {
    const triad = Number(padded.slice(offset, offset + 3));
    const power = (padded.length - offset) / 3 - 1;
    if (triad === 0) continue;
    const scale = SCALES[power];
    words.push(...triadWords(triad, power === 0 ? gender : scale.gender));
    if (power > 0) words.push(pluralRu(triad, scale.forms));
  }
  return words.join(' ');
}

/**
 * Amount in words as written on Russian invoices and acts:
 * 5_000_000 kopecks -> "Пятьдесят тысяч рублей 00 копеек".
 * Kopecks stay as two digits, which is the accepted form for documents.
 */
export function amountInWords(kopecks: Kopecks): string {
  assertKopecks(kopecks);
  if (kopecks < 0) throw new RangeError(`Amount in words needs a non-negative amount, got ${kopecks}`);
  const rest = kopecks % 100;
  const rubles = (kopecks - rest) / 100;
  const words = numberInWords(rubles, 'masculine');
  const capitalised = words[0].toUpperCase() + words.slice(1);
  return `${capitalised} ${pluralRu(rubles, RUBLE)} ${String(rest).padStart(2, '0')} ${pluralRu(rest, KOPECK)}`;
}
