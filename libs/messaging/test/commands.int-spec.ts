import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { defineEvent } from '@papka/contracts';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase } from '@papka/testing';
import { AggregateSequence1763700000700, Commands, MessagingTables1763700000000, messagingEntities, OutboxRejected1763700000600, type OutboxRelay } from '../src';

const ThingChanged = defineEvent<{ name: string }, 'thing.changed'>('thing.changed', 1, 'papka.test-commands.v1');

describe(Commands.name, () => {
  let dbUrl: string;
  let ds: DataSource;
  let kicks = 0;
  let sut: Commands;
  const account = randomUUID();

  const outbox = async (aggregateId: string) =>
    (await ds.query(`SELECT event_type, payload FROM outbox WHERE key = $1 ORDER BY seq`, [aggregateId])) as { event_type: string; payload: { accountId: string; data: unknown } }[];
  const things = async (id: string) => (await ds.query(`SELECT name FROM thing WHERE id = $1`, [id])) as { name: string }[];

  beforeAll(async () => {
    dbUrl = await createTestDatabase('commands');
    ds = createDataSource({ url: dbUrl, entities: messagingEntities, migrations: [MessagingTables1763700000000, OutboxRejected1763700000600, AggregateSequence1763700000700], migrationsTableName: 'm' });
    await ds.initialize();
    await runMigrations(ds);
    await ds.query(`CREATE TABLE thing (id uuid PRIMARY KEY, name text NOT NULL)`);
    sut = new Commands(ds, { kick: () => kicks++ } as unknown as OutboxRelay);
  });

  afterAll(async () => {
    await ds?.destroy();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  beforeEach(() => {
    kicks = 0;
  });

  it('commits the change with its event and wakes the relay once, after the commit', async () => {
    const id = randomUUID();
    let kicksInside = -1;
    const result = await sut.run(account, async (t) => {
      await t.manager.query(`INSERT INTO thing (id, name) VALUES ($1, 'a')`, [id]);
      await t.emit(ThingChanged, id, { name: 'a' });
      await t.emit(ThingChanged, id, { name: 'a again' });
      kicksInside = kicks;
      return 'done';
    });
    expect(result).toBe('done');
    expect(kicksInside).toBe(0);
    expect(kicks).toBe(1);
    expect(await things(id)).toEqual([{ name: 'a' }]);
    const rows = await outbox(id);
    expect(rows.map((r) => r.event_type)).toEqual(['thing.changed', 'thing.changed']);
    expect(rows[0]!.payload).toMatchObject({ accountId: account, data: { name: 'a' } });
  });

  it('writes and announces nothing when the command fails', async () => {
    const id = randomUUID();
    await expect(
      sut.run(account, async (t) => {
        await t.manager.query(`INSERT INTO thing (id, name) VALUES ($1, 'b')`, [id]);
        await t.emit(ThingChanged, id, { name: 'b' });
        throw new Error('rule broken');
      }),
    ).rejects.toThrow('rule broken');
    expect(kicks).toBe(0);
    expect(await things(id)).toEqual([]);
    expect(await outbox(id)).toEqual([]);
  });

  it('does not wake the relay for a command that emitted nothing', async () => {
    await sut.run(account, async (t) => t.manager.query(`SELECT 1`));
    expect(kicks).toBe(0);
  });

  it('numbers the events of each aggregate 1, 2, 3 in the producing transaction, whatever the clock', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const seqs: number[] = [];
    for (const id of [a, a, b, a]) seqs.push((await sut.run(account, (t) => t.emit(ThingChanged, id, { name: 'x' }))).sequence!);
    expect(seqs).toEqual([1, 2, 1, 3]);
    const rows = await outbox(a);
    expect(rows.map((r) => (r.payload as { sequence?: number }).sequence)).toEqual([1, 2, 3]);
    // A rolled-back event gives its number back: the next one of that aggregate is still 4.
    await expect(sut.run(account, async (t) => { await t.emit(ThingChanged, a, { name: 'y' }); throw new Error('no'); })).rejects.toThrow('no');
    expect((await sut.run(account, (t) => t.emit(ThingChanged, a, { name: 'z' }))).sequence).toBe(4);
  });

  it('emits many events in one go: each aggregate numbered in the order given, rows and headers as single emits write them', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await sut.run(account, (t) => t.emit(ThingChanged, b, { name: 'b1' }));
    const other = randomUUID();
    const envelopes = await sut.run(account, (t) =>
      t.emitMany(ThingChanged, [
        { aggregateId: c, data: { name: 'c1' } },
        { aggregateId: a, data: { name: 'a1' } },
        { aggregateId: b, data: { name: 'b2' } },
        { aggregateId: a, data: { name: 'a2' } },
        { aggregateId: c, data: { name: 'c2' }, accountId: other },
      ]),
    );
    expect(kicks).toBe(2);
    expect(envelopes.map((e) => [e.aggregateId, e.data.name, e.sequence])).toEqual([
      [c, 'c1', 1],
      [a, 'a1', 1],
      [b, 'b2', 2],
      [a, 'a2', 2],
      [c, 'c2', 2],
    ]);
    for (const [id, names] of [[a, ['a1', 'a2']], [b, ['b1', 'b2']], [c, ['c1', 'c2']]] as const) {
      const rows = await outbox(id);
      expect(rows.map((r) => (r.payload.data as { name: string }).name)).toEqual(names);
      expect(rows.map((r) => (r.payload as { sequence?: number }).sequence)).toEqual([1, 2]);
    }
    expect((await outbox(c))[1]!.payload.accountId).toBe(other);
    const [h] = (await ds.query(`SELECT headers FROM outbox WHERE id = $1`, [envelopes[3]!.id])) as { headers: Record<string, string> }[];
    expect(h!.headers).toMatchObject({ 'event-id': envelopes[3]!.id, 'event-type': 'thing.changed', 'event-sequence': '2', 'account-id': account });
    // Nothing of a failed command stays.
    const d = randomUUID();
    await expect(sut.run(account, async (t) => { await t.emitMany(ThingChanged, [{ aggregateId: d, data: { name: 'd' } }]); throw new Error('no'); })).rejects.toThrow('no');
    expect(await outbox(d)).toEqual([]);
  });

  describe('runOne: one conditional write and its event as one statement', () => {
    const rename = (id: string, from: string, to: string) => ({ sql: `UPDATE thing SET name = $2 WHERE id = $1 AND name = $3 RETURNING id, name`, params: [id, to, from] });

    it('writes the change and its event, numbered after the aggregate\'s earlier ones, and wakes the relay', async () => {
      const id = randomUUID();
      await sut.run(account, async (t) => {
        await t.manager.query(`INSERT INTO thing (id, name) VALUES ($1, 'a')`, [id]);
        await t.emit(ThingChanged, id, { name: 'a' });
      });
      kicks = 0;
      const written = await sut.runOne<{ id: string; name: string }, { name: string }, 'thing.changed'>(account, rename(id, 'a', 'b'), ThingChanged, id, { name: 'b' });
      expect(written.rows).toEqual([{ id, name: 'b' }]);
      expect(written.envelope).toMatchObject({ aggregateId: id, accountId: account, sequence: 2, data: { name: 'b' } });
      expect(kicks).toBe(1);
      expect(await things(id)).toEqual([{ name: 'b' }]);
      const rows = await outbox(id);
      expect(rows.map((r) => [(r.payload as { sequence?: number }).sequence, (r.payload.data as { name: string }).name])).toEqual([[1, 'a'], [2, 'b']]);
      const [h] = (await ds.query(`SELECT headers FROM outbox WHERE id = $1`, [written.envelope!.id])) as { headers: Record<string, string> }[];
      expect(h!.headers).toMatchObject({ 'event-id': written.envelope!.id, 'event-type': 'thing.changed', 'event-sequence': '2', 'account-id': account });
    });

    it('writes no event, takes no sequence number and wakes nothing when the change matched no row', async () => {
      const id = randomUUID();
      await ds.query(`INSERT INTO thing (id, name) VALUES ($1, 'a')`, [id]);
      const written = await sut.runOne(account, rename(id, 'not a', 'b'), ThingChanged, id, { name: 'b' });
      expect(written).toEqual({ rows: [], envelope: null });
      expect(kicks).toBe(0);
      expect(await things(id)).toEqual([{ name: 'a' }]);
      expect(await outbox(id)).toEqual([]);
      expect(await ds.query(`SELECT seq FROM aggregate_sequence WHERE aggregate_id = $1`, [id])).toEqual([]);
    });

    it('is all or nothing: an event that cannot be written leaves the change unwritten', async () => {
      const id = randomUUID();
      await ds.query(`INSERT INTO thing (id, name) VALUES ($1, 'a')`, [id]);
      await sut.runOne(account, rename(id, 'a', 'b'), ThingChanged, id, { name: 'b' });
      // A second event named 'b' for this aggregate breaks this index: the outbox's insert fails.
      await ds.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_thing_test ON outbox ((payload->'data'->>'name')) WHERE key = '${id}'`);
      await expect(sut.runOne(account, { sql: `UPDATE thing SET name = 'c' WHERE id = $1 RETURNING id`, params: [id] }, ThingChanged, id, { name: 'b' })).rejects.toThrow();
      expect(await things(id)).toEqual([{ name: 'b' }]);
      expect((await outbox(id)).length).toBe(1);
      await ds.query(`DROP INDEX ux_thing_test`);
    });
  });

  it('emits for another account when told to', async () => {
    const id = randomUUID();
    const other = randomUUID();
    await sut.run(account, (t) => t.emit(ThingChanged, id, { name: 'c' }, other));
    expect((await outbox(id))[0]!.payload.accountId).toBe(other);
  });
});
