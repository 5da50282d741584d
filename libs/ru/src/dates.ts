/** A calendar day with a 1-based month, detached from any time zone. */
export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

// Documents are dated by the Moscow calendar. Moscow has been a fixed UTC+3
// with no DST since 2014-10-26, which keeps this a pure function free of the
// host's time zone and ICU data (older instants near midnight may be off by one hour).
const MOSCOW_OFFSET_MS = 3 * 60 * 60 * 1000;

const GENITIVE_MONTHS = [
  'января', 'февраля', 'марта', 'апреля', 'мая', 'июня',
  'июля', 'августа', 'сентября', 'октября', 'ноября', 'декабря',
] as const;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const RU_DATE = /^(\d{2})\.(\d{2})\.(\d{4})$/;
// A timestamp without an explicit offset would be read in the host's zone.
const ISO_TIMESTAMP_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})$/i;

function calendarDate(year: number, month: number, day: number, source: string): CalendarDate {
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    throw new RangeError(`Not a calendar date: ${source}`);
  }
  return { year, month, day };
}

function fromInstant(instant: Date, source: string): CalendarDate {
  const time = instant.getTime();
  if (Number.isNaN(time)) throw new RangeError(`Invalid date: ${source}`);
  const moscow = new Date(time + MOSCOW_OFFSET_MS);
  return { year: moscow.getUTCFullYear(), month: moscow.getUTCMonth() + 1, day: moscow.getUTCDate() };
}

/**
 * The Moscow calendar day of a date. A `Date` is an instant and is shifted to
 * UTC+3; strings may be a calendar date ("2026-06-05", "05.06.2026"), taken
 * literally, or an ISO timestamp with an explicit offset.
 */
export function moscowCalendarDate(date: Date | string): CalendarDate {
  if (date instanceof Date) return fromInstant(date, String(date));
  const text = date.trim();
  let m = ISO_DATE.exec(text);
  if (m) return calendarDate(Number(m[1]), Number(m[2]), Number(m[3]), text);
  m = RU_DATE.exec(text);
  if (m) return calendarDate(Number(m[3]), Number(m[2]), Number(m[1]), text);
  if (ISO_TIMESTAMP_WITH_ZONE.test(text)) {
    // Date would roll 2026-02-30T10:00Z over to 2 March: the day written must exist.
    calendarDate(Number(text.slice(0, 4)), Number(text.slice(5, 7)), Number(text.slice(8, 10)), text);
    return fromInstant(new Date(text), text);
  }
  throw new RangeError(`Unsupported date string (use YYYY-MM-DD, DD.MM.YYYY or an ISO timestamp with offset): ${date}`);
}

export interface RuDateOptions {
  /** Wrap the day in «guillemets», as in contract headers. Default true. */
  quotes?: boolean;
  /** Zero-pad the day: «05». Default false. */
  padDay?: boolean;
  /** Append " г." after the year. Default true. */
  yearSuffix?: boolean;
}

/** «5» июня 2026 г. */
export function formatRuDate(date: Date | string, opts: RuDateOptions = {}): string {
  const { quotes = true, padDay = false, yearSuffix = true } = opts;
  const { year, month, day } = moscowCalendarDate(date);
  const dayText = padDay ? String(day).padStart(2, '0') : String(day);
  return `${quotes ? `«${dayText}»` : dayText} ${GENITIVE_MONTHS[month - 1]} ${year}${yearSuffix ? ' г.' : ''}`;
}

/** 05.06.2026 */
export function formatRuDateShort(date: Date | string): string {
  const { year, month, day } = moscowCalendarDate(date);
  return `${String(day).padStart(2, '0')}.${String(month).padStart(2, '0')}.${year}`;
}
