import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase } from '@papka/testing';
import { entities } from '../src/app.module';
import { SyncRepository } from '../src/engine/sync.repository';
import { migrations } from '../src/migrations';

/**
 * An invoice attached to a deal asks its payments again (`requeueNotApplicablePayments`), on the
 * service's real schema. The attach's transaction and a worker judging one of those payments run
 * at once (finance-sync runs two replicas or more): the worker read the deal's documents before
 * the attach committed and finishes after it. Its "not applicable" must not be final then.
 */
describe('finance-sync: an attach asks the deal payments again, also the one a worker is judging (PostgreSQL)', () => {
  const account = `acc-${randomUUID().slice(0, 8)}`;
  const connection = randomUUID();
  const interaction = randomUUID();
  let dbUrl: string;
  let ds: DataSource;
  let sync: SyncRepository;

  const record = async (paymentId: string) =>
    ((await ds.query(`SELECT state, attempts, last_error, revision FROM sync_record WHERE entity_id = $1`, [paymentId])) as { state: string; attempts: number; last_error: string | null; revision: number }[])[0]!;
  const claimOne = async (paymentId: string) => (await sync.claim(account, connection, 50, 60_000)).find((r) => r.entityId === paymentId)!;

  async function payment(): Promise<string> {
    const id = randomUUID();
    await ds.query(`INSERT INTO payment_replica (id, account_id, interaction_id, type, name, sum, date) VALUES ($1, $2, $3, 'income', 'Оплата', 10000, '2026-12-01')`, [id, account, interaction]);
    await ds.query(`INSERT INTO sync_record (connection_id, account_id, entity_type, entity_id, op, content_hash) VALUES ($1, $2, 'payment', $3, 'upsert', 'create')`, [connection, account, id]);
    return id;
  }

  beforeAll(async () => {
    dbUrl = await createTestDatabase('finance_requeue');
    ds = createDataSource({ url: dbUrl, entities, migrations, migrationsTableName: 'finance_sync_migrations' });
    await ds.initialize();
    await runMigrations(ds);
    sync = new SyncRepository(ds);
    await ds.query(
      `INSERT INTO finance_connection (id, account_id, target, hook_token, webhook_url) VALUES ($1, $2, 'moysklad', $3, 'http://gateway.test/hook')`,
      [connection, account, randomUUID()],
    );
  });

  afterAll(async () => {
    await ds?.destroy();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it('queues again a payment whose "not applicable" was already final', async () => {
    const id = await payment();
    const claimed = await claimOne(id);
    await sync.finishSynced(ds.manager, account, [{ rec: claimed, remoteId: null }], { lastError: 'not applicable: no invoice attached' });
    expect(await record(id)).toMatchObject({ state: 'synced', last_error: 'not applicable: no invoice attached' });

    await ds.transaction((m) => sync.requeueNotApplicablePayments(m, account, interaction));

    expect(await record(id)).toMatchObject({ state: 'pending', attempts: 0, last_error: null });
    expect((await claimOne(id)).entityId).toBe(id);
  });

  it('leaves pending a payment whose worker judged it before the attach committed and finished after', async () => {
    const id = await payment();
    // The worker has claimed it and read the deal's documents: no invoice yet.
    const claimed = await claimOne(id);
    // The attach commits meanwhile.
    await ds.transaction((m) => sync.requeueNotApplicablePayments(m, account, interaction));
    // The worker's outcome, from what it read before.
    await sync.finishSynced(ds.manager, account, [{ rec: claimed, remoteId: null }], { lastError: 'not applicable: no invoice attached' });

    expect(await record(id)).toMatchObject({ state: 'pending' });
    // Due at once, so the next round judges it with the invoice attached.
    expect((await claimOne(id)).entityId).toBe(id);
  });

  it('queues a change made while the connection was deleted, so the PUT that reconnects it sends it', async () => {
    const id = await payment();
    await sync.finishSynced(ds.manager, account, [{ rec: await claimOne(id), remoteId: 'remote-1' }]);
    await ds.query(`UPDATE finance_connection SET connected = false WHERE id = $1`, [connection]);
    try {
      // The payment is removed in Papka meanwhile.
      await ds.transaction((m) => sync.enqueue(m, account, 'payment', id, 'create', 'remove'));
      expect(await ds.query(`SELECT state, op FROM sync_record WHERE entity_id = $1`, [id])).toEqual([{ state: 'pending', op: 'remove' }]);
    } finally {
      await ds.query(`UPDATE finance_connection SET connected = true WHERE id = $1`, [connection]);
    }
    // Reconnected: its backfill keeps the record, and the worker claims the removal.
    await ds.transaction((m) => sync.backfill(m, account, connection, 'moysklad'));
    expect((await claimOne(id)).op).toBe('remove');
  });
});
