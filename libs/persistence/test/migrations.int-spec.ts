import { Client } from 'pg';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { createTestDatabase, dropDatabase } from '@papka/testing';
import { createDataSource, runMigrations } from '../src';

class AddColumn1700000000001 implements MigrationInterface {
  name = 'AddColumn1700000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE busy ADD COLUMN note text`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE busy DROP COLUMN note`);
  }
}

class SlowBackfill1700000000002 implements MigrationInterface {
  name = 'SlowBackfill1700000000002';
  async up(q: QueryRunner): Promise<void> {
    // Longer than the services' statement timeout of this test's data source.
    await q.query(`SELECT pg_sleep(0.6)`);
    await q.query(`UPDATE busy SET note = 'filled'`);
  }
  async down(): Promise<void> {}
}

/** The migrations runner and the data source's statement limit on the real PostgreSQL. */
describe(runMigrations.name, () => {
  let dbUrl: string;
  let ds: DataSource;
  let holder: Client;

  beforeAll(async () => {
    dbUrl = await createTestDatabase('migrations_runner');
    ds = createDataSource({ url: dbUrl, entities: [], migrations: [AddColumn1700000000001, SlowBackfill1700000000002], migrationsTableName: 'm', statementTimeoutMs: 300 });
    await ds.initialize();
    await ds.query(`CREATE TABLE busy (id int PRIMARY KEY)`);
    await ds.query(`INSERT INTO busy VALUES (1), (2)`);
    holder = new Client({ connectionString: dbUrl });
    await holder.connect();
  });

  afterAll(async () => {
    await holder?.end();
    await ds?.destroy();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it("cancels a service's statement past its statement timeout", async () => {
    await expect(ds.query(`SELECT pg_sleep(1)`)).rejects.toMatchObject({ driverError: expect.objectContaining({ code: '57014' }) });
    expect(await ds.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
  });

  it('a migration behind a long transaction gives up (lock_timeout) instead of queueing every query on its table; run again later, it applies, with no statement limit', async () => {
    // A long transaction that read the table (a report, a stuck worker) holds a lock ALTER waits for.
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM busy');
    const migrating = runMigrations(ds, { lockTimeoutMs: 400 });
    const refused = expect(migrating).rejects.toMatchObject({ driverError: expect.objectContaining({ code: '55P03' }) });
    // Meanwhile the table stays readable: a queued ALTER would hold this read until it ran.
    await new Promise((r) => setTimeout(r, 100));
    const reader = new Client({ connectionString: dbUrl, statement_timeout: 2_000 });
    await reader.connect();
    try {
      // Queued behind the waiting ALTER until it gives up (without lock_timeout: until the long
      // transaction ends, here past the reader's own 2 s limit).
      const read = reader.query('SELECT count(*)::int AS n FROM busy');
      await refused;
      expect((await read).rows).toEqual([{ n: 2 }]);
    } finally {
      await reader.end();
    }
    expect(await ds.query(`SELECT count(*)::int AS n FROM m`)).toEqual([{ n: 0 }]);
    await holder.query('COMMIT');

    // The slow one runs past the data source's 300 ms statement limit: migrations have none.
    expect(await runMigrations(ds)).toEqual(['AddColumn1700000000001', 'SlowBackfill1700000000002']);
    expect(await ds.query(`SELECT note FROM busy ORDER BY id`)).toEqual([{ note: 'filled' }, { note: 'filled' }]);
    // The pooled session that ran them is back to the data source's limits.
    await expect(ds.query(`SELECT pg_sleep(1)`)).rejects.toMatchObject({ driverError: expect.objectContaining({ code: '57014' }) });
  });
});
