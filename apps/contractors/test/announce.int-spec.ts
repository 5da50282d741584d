import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '@papka/persistence';
import { createTestDatabase, dropDatabase } from '@papka/testing';
import { entities } from '../src/app.module';
import { announceContractors } from '../src/contractors/contractors.announce';
import type { ContractorAggregate } from '../src/contractors/contractor.mapper';
import { ContractorsRepository } from '../src/contractors/contractors.repository';
import { migrations } from '../src/migrations';
import { announceOrganizations } from '../src/organization/organization.announce';
import type { Organization } from '../src/organization/organization.entity';
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

  /**
   * Runs `announce` with the page read of `repo` (a repository's prototype) wrapped: after each
   * page holding our row, a command tries to lock that row. What it found, one entry per such page.
   */
  async function lockDuringPages<R>(repo: object, ours: (row: R) => boolean, lock: () => Promise<'locked' | 'free'>, announce: () => Promise<number>): Promise<string[]> {
    const target = repo as { pageAllAccounts: (...args: unknown[]) => Promise<R[]> };
    const page = target.pageAllAccounts;
    const during: string[] = [];
    const spy = jest.spyOn(target, 'pageAllAccounts').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const rows = await page.apply(this, args);
      if (rows.some(ours)) during.push(await lock());
      return rows;
    });
    try {
      expect(await announce()).toBeGreaterThanOrEqual(1);
    } finally {
      spy.mockRestore();
    }
    return during;
  }

  it("holds a contractor's row from the page read to the end of the announce's transaction", async () => {
    const lockContractor = () => lockNowait('SELECT 1 FROM contractor WHERE id = $1', [contractorId]);
    const during = await lockDuringPages<ContractorAggregate>(ContractorsRepository.prototype, (r) => r.contractor.id === contractorId, lockContractor, () => announceContractors(ds));
    expect(during).toEqual(['locked']);
    // Released with the transaction.
    expect(await lockContractor()).toBe('free');
  });

  it("holds an organisation's row the same way", async () => {
    const lockOrganization = () => lockNowait('SELECT 1 FROM organization WHERE account_id = $1', [account]);
    const during = await lockDuringPages<Organization>(OrganizationRepository.prototype, (o) => o.accountId === account, lockOrganization, () => announceOrganizations(ds));
    expect(during).toEqual(['locked']);
  });
});
