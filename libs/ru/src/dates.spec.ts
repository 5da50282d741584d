import { formatRuDate, formatRuDateShort, moscowCalendarDate } from './dates';

describe(formatRuDate.name, () => {
  it('formats with guillemets, genitive month and " г."', () => {
    expect(formatRuDate('2026-06-05')).toBe('«5» июня 2026 г.');
  });

  it.each([
    ['2026-01-01', '«1» января 2026 г.'],
    ['2026-02-28', '«28» февраля 2026 г.'],
    ['2026-03-08', '«8» марта 2026 г.'],
    ['2026-04-30', '«30» апреля 2026 г.'],
    ['2026-05-09', '«9» мая 2026 г.'],
    ['2026-07-15', '«15» июля 2026 г.'],
    ['2026-08-31', '«31» августа 2026 г.'],
    ['2026-09-01', '«1» сентября 2026 г.'],
    ['2026-10-10', '«10» октября 2026 г.'],
    ['2026-11-04', '«4» ноября 2026 г.'],
    ['2026-12-31', '«31» декабря 2026 г.'],
  ])('%s -> %s', (input, expected) => {
    expect(formatRuDate(input)).toBe(expected);
  });

  it('uses the Moscow calendar day for instants late in the UTC evening', () => {
    expect(formatRuDate(new Date('2026-06-04T21:30:00Z'))).toBe('«5» июня 2026 г.');
    expect(formatRuDate(new Date('2026-06-04T20:59:59Z'))).toBe('«4» июня 2026 г.');
    expect(formatRuDate('2026-06-04T21:00:00.000Z')).toBe('«5» июня 2026 г.');
  });

  it('honours explicit offsets in timestamps', () => {
    expect(formatRuDate('2026-06-05T01:00:00+05:00')).toBe('«4» июня 2026 г.');
  });

  it('supports options', () => {
    expect(formatRuDate('2026-06-05', { quotes: false })).toBe('5 июня 2026 г.');
    expect(formatRuDate('2026-06-05', { padDay: true })).toBe('«05» июня 2026 г.');
    expect(formatRuDate('2026-06-05', { yearSuffix: false })).toBe('«5» июня 2026');
  });

  it('accepts DD.MM.YYYY', () => {
    expect(formatRuDate('05.06.2026')).toBe('«5» июня 2026 г.');
  });

  it.each(['2026-02-30', '31.04.2026', 'tomorrow', '2026-06-05T10:00:00', '', '2026-02-30T10:00:00Z', '2026-04-31T00:00:00+03:00', '2026-13-01T00:00:00Z'])('rejects %p', (input) => {
    expect(() => formatRuDate(input)).toThrow(RangeError);
  });

  it('rejects an invalid Date', () => {
    expect(() => formatRuDate(new Date('nope'))).toThrow(RangeError);
  });
});

describe(formatRuDateShort.name, () => {
  it('formats as DD.MM.YYYY', () => {
    expect(formatRuDateShort('2026-06-05')).toBe('05.06.2026');
    expect(formatRuDateShort(new Date('2026-12-31T21:00:00Z'))).toBe('01.01.2027');
  });
});

describe(moscowCalendarDate.name, () => {
  it('returns a 1-based month', () => {
    expect(moscowCalendarDate('2026-01-15')).toEqual({ year: 2026, month: 1, day: 15 });
  });

  it('accepts leap days only in leap years', () => {
    expect(moscowCalendarDate('2028-02-29')).toEqual({ year: 2028, month: 2, day: 29 });
    expect(() => moscowCalendarDate('2026-02-29')).toThrow(RangeError);
  });
});
