import { Client } from 'pg';
import { MigrationExecutor, type DataSource } from 'typeorm';

/** Arbitrary constant: replicas of one service serialise their migrations on it. */
const MIGRATION_LOCK_KEY = 7_245_118;

/** How long a migration's statement waits for a table's lock before the migration fails (and is run again by the next start). */
export const MIGRATION_LOCK_TIMEOUT_MS = 10_000;

/**
 * Runs pending migrations, each in its own transaction, holding a PostgreSQL advisory lock
 * so that several replicas starting at once do not race. They run on the session that holds
 * the lock, with no statement time limit (a migration over a large table may take long) and
 * `lock_timeout` (MIGRATION_LOCK_TIMEOUT_MS): an ALTER queued behind a long transaction blocks
 * every later query on its table while it waits, so it gives up instead, rolls back, and the
 * service's start (or the initContainer) fails and is tried again.
 */
export async function runMigrations(dataSource: DataSource, o: { lockTimeoutMs?: number } = {}): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    // No time limit on waiting for another replica's migrations either.
    await runner.query('SET statement_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await runner.query(`SET lock_timeout = ${Math.max(1, Math.trunc(o.lockTimeoutMs ?? MIGRATION_LOCK_TIMEOUT_MS))}`);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    const done = await executor.executePendingMigrations();
    return done.map((m) => m.name);
  } finally {
    await runner.query('RESET lock_timeout; RESET statement_timeout').catch(() => undefined);
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}

/**
 * Creates the database named in `url` when it does not exist yet (embedded mode and tests;
 * in production the database is provisioned by the platform and this is a no-op).
 */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL must name a database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created concurrently by another process
      });
    }
  } finally {
    await client.end();
  }
}
