// Value formats of Adesk's answers (002): sums as strings with 2 decimals, dates in several shapes.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date in `YYYY-MM-DD`. */
export function isIsoDate(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** `2025-07-01` -> `01.07.2025`, Adesk's `date` in answers. */
export function ruDate(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${d}.${m}.${y}`;
}

/** A Date as `dd.MM.yyyy HH:mm` (bank account `created`, 002 L748). */
export function ruDateTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}.${p(d.getUTCMonth() + 1)}.${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/**
 * A sum sent as a JSON Number (v2), or as form text (v1), to whole kopecks; null when it is not a
 * finite number. Text is read digit by digit so that `"0.29"` is never 28.999... kopecks.
 */
export function toKopecks(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v * 100) : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(-?)(\d+)(?:[.,](\d+))?\s*$/.exec(v);
  if (!m) return null;
  const frac = (m[3] ?? '').padEnd(3, '0');
  const k = Number(m[2]) * 100 + Number(frac.slice(0, 2)) + (Number(frac[2]) >= 5 ? 1 : 0);
  return m[1] === '-' ? -k : k;
}

/** Kopecks -> `"2010.00"`. */
export function rubles(kopecks: number): string {
  const sign = kopecks < 0 ? '-' : '';
  const a = Math.abs(kopecks);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** A small seeded PRNG (mulberry32), so the fault ratios give the same draws in every run. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** First/last day (`YYYY-MM-DD`) of one of Adesk's named ranges around `now`; null for all_time/unknown. */
export function namedRange(range: string, now = new Date()): [string, string] | null {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const q = Math.floor(m / 3) * 3;
  const day = (yy: number, mm: number, dd: number): string => new Date(Date.UTC(yy, mm, dd)).toISOString().slice(0, 10);
  switch (range) {
    case 'this_month':
      return [day(y, m, 1), day(y, m + 1, 0)];
    case 'prev_month':
      return [day(y, m - 1, 1), day(y, m, 0)];
    case 'this_quarter':
      return [day(y, q, 1), day(y, q + 3, 0)];
    case 'prev_quarter':
      return [day(y, q - 3, 1), day(y, q, 0)];
    case 'this_year':
      return [day(y, 0, 1), day(y, 11, 31)];
    case 'prev_year':
      return [day(y - 1, 0, 1), day(y - 1, 11, 31)];
    default:
      return null;
  }
}
