import { QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';

/**
 * True when an error means "PostgreSQL cannot be reached right now" (as opposed to a bad
 * query): callers answer 503 and consumers retry later instead of dead-lettering.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  // TypeORM's own words for "the connection went away under this query runner" (seen when
  // PostgreSQL stops mid-transaction): the pool's connection died, not the query.
  if (err instanceof QueryRunnerProviderAlreadyReleasedError || err instanceof QueryRunnerAlreadyReleasedError) return true;
  const e = err as { code?: string; message?: string; driverError?: unknown };
  if (e.driverError && e.driverError !== err && isDatabaseUnavailable(e.driverError)) return true;
  const codes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300'];
  if (e.code && codes.includes(e.code)) return true;
  const msg = e.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Connection refused|the database system is (starting up|shutting down)/i.test(msg);
}

/** True for a unique-constraint violation, optionally on a given constraint name. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const d = e?.driverError ?? e;
  return d?.code === '23505' && (constraint === undefined || d.constraint === constraint);
}
