/** A time written with its offset (`Z`, `+03`, `+0300`, `-05:00`) after its date. */
const WITH_OFFSET = /[T ].*(?:z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * SQL reading the parameter `placeholder` (a list filter's `from`/`to`: `YYYY-MM-DD`,
 * `YYYYMMDD` or an ISO 8601 date-time) as an instant. A date, or a time with no offset, is Moscow
 * time, the day documents are dated by; a time with its offset is that instant. Before, PostgreSQL
 * read either in the session's TimeZone, the server's setting, so `from=2026-01-15` meant
 * midnight UTC on one server and midnight in Moscow on another.
 */
export function moscowInstantSql(placeholder: string, value: string): string {
  return WITH_OFFSET.test(value) ? `${placeholder}::timestamptz` : `(${placeholder}::timestamp AT TIME ZONE 'Europe/Moscow')`;
}
