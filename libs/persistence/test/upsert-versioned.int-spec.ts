import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestDatabase, dropDatabase } from '@papka/testing';
import { createDataSource, upsertVersioned } from '../src';

describe(upsertVersioned.name, () => {
  let dbUrl: string;
  let ds: DataSource;

  const row = async (id: string) => ((await ds.query(`SELECT name, deleted, version FROM replica WHERE id = $1`, [id])) as unknown[])[0];

  beforeAll(async () => {
    dbUrl = await createTestDatabase('upsert_versioned');
    ds = createDataSource({ url: dbUrl, entities: [], migrations: [], migrationsTableName: 'm' });
    await ds.initialize();
    await ds.query(`CREATE TABLE replica (id uuid PRIMARY KEY, name text NOT NULL, deleted boolean NOT NULL, version bigint NOT NULL)`);
  });

  afterAll(async () => {
    await ds?.destroy();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it('inserts, takes a newer or equal version, and ignores an older one', async () => {
    const id = randomUUID();
    const sut = (name: string, version: number) => upsertVersioned(ds.manager, 'replica', { id, name, deleted: false, version }, { conflict: ['id'] });
    expect(await sut('v2', 2)).toBe(true);
    expect(await sut('v1 (late)', 1)).toBe(false);
    expect(await row(id)).toEqual({ name: 'v2', deleted: false, version: '2' });
    expect(await sut('v2 replayed', 2)).toBe(true);
    expect(await sut('v3', 3)).toBe(true);
    expect(await row(id)).toEqual({ name: 'v3', deleted: false, version: '3' });
  });

  it('keeps a row the guard protects (a tombstone stays a tombstone)', async () => {
    const id = randomUUID();
    const sut = (deleted: boolean, version: number) =>
      upsertVersioned(ds.manager, 'replica', { id, name: 'x', deleted, version }, { conflict: ['id'], guard: 'NOT replica.deleted' });
    await sut(true, 1);
    expect(await sut(false, 5)).toBe(false);
    expect(await row(id)).toEqual({ name: 'x', deleted: true, version: '1' });
  });

  it('refuses a name that is not a plain identifier', async () => {
    await expect(upsertVersioned(ds.manager, 'replica; DROP TABLE replica', { id: randomUUID(), version: 1 }, { conflict: ['id'] })).rejects.toThrow(
      /not a plain SQL identifier/,
    );
  });
});
