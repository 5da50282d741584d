import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase } from '@papka/testing';
import { entities } from '../src/app.module';
import { announceContractors } from '../src/contractors/contractors.announce';
import { ContractorsRepository } from '../src/contractors/contractors.repository';
import { migrations } from '../src/migrations';
import { announceOrganizations } from '../src/organization/organization.announce';
import { OrganizationRepository } from '../src/organization/organization.repository';

/**
 * The re-announce against the service's commands, on its real schema. A command locks its row
 * (FOR UPDATE) before it changes it and writes its event; the announce reads a page and writes a
 * snapshot of each row with the next sequence. Unless the page's rows stay locked until the
 * snapshots are written, a change committed in between gets the lower sequence, and every
 * replica (which keeps the highest) goes back to the older state.
 */
describe('re-announce: the rows of a page are held until their snapshots are written (PostgreSQL)', () => {
  const account = `acc-${randomUUID().slice(0, 8)}`;
  const contractorId = randomUUID();
  let dbUrl: string;
  let ds: DataSource;

  /** What a command's first statement does (`lock`), on a connection of its own, without waiting. */
  async function lockNowait(sql: string, params: unknown[]): Promise<'locked' | 'free'> {
    const q = ds.createQueryRunner();
    await q.connect();
    try {
      await q.startTransaction();
      await q.query(`${sql} FOR UPDATE NOWAIT`, params);
      return 'free';
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') return 'locked';
      throw err;
    } finally {
      await q.rollbackTransaction().catch(() => undefined);
      await q.release();
    }
  }

  beforeAll(async () => {
    dbUrl = await createTestDatabase('contractors_announce');
    ds = createDataSource({ url: dbUrl, entities, migrations, migrationsTableName: 'contractors_migrations' });
    await ds.initialize();
    await runMigrations(ds);
    await ds.query(`INSERT INTO contractor (id, account_id, type, name) VALUES ($1, $2, 1, 'ООО Ромашка')`, [contractorId, account]);
    await ds.query(`INSERT INTO organization (account_id, inn, name) VALUES ($1, '7707083893', 'ООО Своё')`, [account]);
  });

  afterAll(async () => {
    await ds?.destroy();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it("holds a contractor's row from the page read to the end of the announce's transaction", async () => {
    const page = ContractorsRepository.prototype.pageAllAccounts;
    const during: string[] = [];
    const spy = jest.spyOn(ContractorsRepository.prototype, 'pageAllAccounts').mockImplementation(async function (this: ContractorsRepository, ...args) {
      const rows = await page.apply(this, args);
      if (rows.some((r) => r.contractor.id === contractorId)) during.push(await lockNowait('SELECT 1 FROM contractor WHERE id = $1', [contractorId]));
      return rows;
    });
    try {
      expect(await announceContractors(ds)).toBeGreaterThanOrEqual(1);
    } finally {
      spy.mockRestore();
    }
    expect(during).toEqual(['locked']);
    // Released with the transaction.
    expect(await lockNowait('SELECT 1 FROM contractor WHERE id = $1', [contractorId])).toBe('free');
  });

  it("holds an organisation's row the same way", async () => {
    const page = OrganizationRepository.prototype.pageAllAccounts;
    const during: string[] = [];
    const spy = jest.spyOn(OrganizationRepository.prototype, 'pageAllAccounts').mockImplementation(async function (this: OrganizationRepository, ...args) {
      const rows = await page.apply(this, args);
      if (rows.some((o) => o.accountId === account)) during.push(await lockNowait('SELECT 1 FROM organization WHERE account_id = $1', [account]));
      return rows;
    });
    try {
      expect(await announceOrganizations(ds)).toBeGreaterThanOrEqual(1);
    } finally {
      spy.mockRestore();
    }
    expect(during).toEqual(['locked']);
  });
});
