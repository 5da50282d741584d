import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  createTestDatabase,
  dadataEnv,
  dadataFixtures,
  dropDatabase,
  eventually,
  serviceEnv,
  startFakeDadata,
  type FakeDadata,
  type RecordedDadataRequest,
} from '@papka/testing';
import { bootstrap as startContractors } from '../src/bootstrap';
import { ContractorEnrichmentWorker, LOOKUP_FAILURE_BACKOFF_MS } from '../src/contractors/contractor-enrichment.worker';

/**
 * The enrichment worker as it runs in production: several replicas of the service on one
 * database, each running its passes on its own timer. Here two instances of the service whose
 * timers never fire in the test; the test runs their passes itself.
 */
describe('enrichment worker: replicas on one database (PostgreSQL + fake DaData)', () => {
  let dadata: FakeDadata;
  let dbUrl: string;
  let replicas: INestApplication[] = [];
  let db: DataSource;
  const account = `acc-${randomUUID().slice(0, 8)}`;

  const start = () =>
    startContractors({
      ...serviceEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl,
      ...dadataEnv(dadata),
      DADATA_TIMEOUT_MS: '3000',
      // The longest allowed: no pass of their own during the test.
      ENRICH_INTERVAL_MS: '3600000',
    });

  beforeAll(async () => {
    dadata = await startFakeDadata();
    dbUrl = await createTestDatabase('contractors_enrichment');
    // One after the other: the first runs the migrations.
    replicas = [await start(), await start()];
    db = replicas[0]!.get(DataSource);
    // Each with its own pool, as two processes have.
    expect(replicas[1]!.get(DataSource)).not.toBe(db);
  });

  afterAll(async () => {
    for (const app of replicas) await app.close();
    await dadata?.close();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  beforeEach(() => dadata.reset());

  const worker = (n: number) => replicas[n]!.get(ContractorEnrichmentWorker);
  const queryOf = (r: RecordedDadataRequest) => (r.body as { query: string }).query;
  /** How many times the fake DaData was asked each query. */
  const asked = () => dadata.requests.reduce<Record<string, number>>((acc, r) => ({ ...acc, [queryOf(r)]: (acc[queryOf(r)] ?? 0) + 1 }), {});

  /** Contractors (юрлица) whose look-up is pending and due, due in the order given. */
  async function dueContractors(inns: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, inn] of inns.entries()) {
      const id = randomUUID();
      await db.query(
        `INSERT INTO contractor (id, account_id, type, name, inn, lookup_status, lookup_attempts, lookup_next_at)
         VALUES ($1, $2, 2, $3, $4, 'pending', 0, now() - ($5::int * interval '1 second'))`,
        [id, account, `ООО ${inn}`, inn, inns.length - i],
      );
      ids.push(id);
    }
    return ids;
  }

  /** Bank accounts whose look-up is pending and due, of one contractor that is not. */
  async function dueBankAccounts(biks: string[]): Promise<string[]> {
    const contractorId = randomUUID();
    await db.query(`INSERT INTO contractor (id, account_id, type, name) VALUES ($1, $2, 3, 'Владелец счетов')`, [contractorId, account]);
    const ids: string[] = [];
    for (const [i, bik] of biks.entries()) {
      const id = randomUUID();
      await db.query(
        `INSERT INTO bank_account (id, contractor_id, account_id, bik, number, name, lookup_status, lookup_attempts, lookup_next_at)
         VALUES ($1, $2, $3, $4, $5, 'Расчетный счёт', 'pending', 0, now() - ($6::int * interval '1 second'))`,
        [id, contractorId, account, bik, `4070281000000000000${i}`, biks.length - i],
      );
      ids.push(id);
    }
    return ids;
  }

  it('asks DaData once per INN and BIK when a replica runs its pass while another is in the middle of its own', async () => {
    const inns = ['7700000011', '7700000012', '7700000013', '7700000014'];
    const biks = ['044500011', '044500012'];
    await dueContractors(inns);
    await dueBankAccounts(biks);
    // The first replica's first look-up stays unanswered until the other's pass is over.
    const release = dadata.hold((r) => queryOf(r) === inns[0]);
    const first = worker(0).tick();
    try {
      await eventually(async () => dadata.requests.some((r) => queryOf(r) === inns[0]), 10_000, 10);
      // Its due rows are the first's: this one leaves them, and takes what the first has not claimed.
      await worker(1).tick();
    } finally {
      release();
    }
    await first;
    expect(asked()).toEqual(Object.fromEntries([...inns, ...biks].map((q) => [q, 1])));
    // And each was looked up: DaData does not know them, so each is asked again tomorrow.
    const rows = (await db.query(
      `SELECT lookup_status AS status, lookup_next_at > now() + interval '23 hours' AS tomorrow FROM contractor WHERE inn = ANY($1)
       UNION ALL SELECT lookup_status, lookup_next_at > now() + interval '23 hours' FROM bank_account WHERE bik = ANY($2)`,
      [inns, biks],
    )) as { status: string; tomorrow: boolean }[];
    expect(rows).toEqual(Array(inns.length + biks.length).fill({ status: 'not_found', tomorrow: true }));
  });

  it('asks DaData once per INN when two replicas start their passes at the same moment', async () => {
    const inns = Array.from({ length: 12 }, (_, i) => `77000001${String(i).padStart(2, '0')}`);
    await dueContractors(inns);
    await Promise.all([worker(0).tick(), worker(1).tick()]);
    expect(asked()).toEqual(Object.fromEntries(inns.map((q) => [q, 1])));
  });

  it('backs off a due row whose completion keeps failing and goes on with the rest, bank accounts included', async () => {
    // DaData knows all three; the first's answer cannot be stored (a constraint refuses it).
    const parties = ['7700000021', '7700000022'].map((inn) => {
      const p = dadataFixtures.partyLegal();
      p.value = `ООО "${inn}"`;
      p.data = { ...p.data, inn, address: { value: `г Москва, д ${inn}` } };
      dadata.addParty(p);
      return p;
    });
    const [broken, fine] = await dueContractors(parties.map((p) => p.data.inn as string));
    const [bank] = await dueBankAccounts(['044525225']);
    await db.query(`ALTER TABLE contractor ADD CONSTRAINT test_refuses_full_info CHECK (id <> '${broken}' OR full_info IS NULL)`);
    try {
      await worker(0).tick();
      const [b, f] = (await db.query(
        `SELECT lookup_status AS status, full_info IS NOT NULL AS filled,
                lookup_next_at > now() + $2::int * interval '1 millisecond' AS backed_off
         FROM contractor WHERE id = ANY($1) ORDER BY lookup_next_at NULLS LAST`,
        [[broken, fine], LOOKUP_FAILURE_BACKOFF_MS - 60_000],
      )) as { status: string; filled: boolean; backed_off: boolean | null }[];
      // The one that failed waits its back-off (it stays pending); the next one was filled in.
      expect([b, f]).toEqual([
        { status: 'pending', filled: false, backed_off: true },
        { status: 'ok', filled: true, backed_off: null },
      ]);
      const [account] = (await db.query(`SELECT lookup_status AS status, full_info IS NOT NULL AS filled FROM bank_account WHERE id = $1`, [bank])) as object[];
      expect(account).toEqual({ status: 'ok', filled: true });
      // A pass after it does not try it again before its time.
      const before = dadata.requests.length;
      await worker(1).tick();
      expect(dadata.requests.length).toBe(before);
    } finally {
      await db.query(`ALTER TABLE contractor DROP CONSTRAINT test_refuses_full_info`);
    }
  });
});
