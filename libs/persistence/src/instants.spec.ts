import { moscowInstantSql } from './instants';

describe(moscowInstantSql.name, () => {
  it.each(['2026-01-15', '20260115', '2026-01-15T10:00', '2026-01-15 10:00:00.5'])('reads %s on a Moscow clock', (v) => {
    expect(moscowInstantSql('$2', v)).toBe(`($2::timestamp AT TIME ZONE 'Europe/Moscow')`);
  });
  it.each(['2026-01-15T10:00Z', '2026-01-15T10:00:00+03', '2026-01-15T10:00-0500', '2026-01-15 10:00:00.5+03:00'])('reads %s as the instant it names', (v) => {
    expect(moscowInstantSql('$2', v)).toBe('$2::timestamptz');
  });
});
