/**
 * Benchmark (not a test): the interactions list through the gateway, with 10,000 interactions
 * in the account (3 documents and 2 payments each), beside the contractors list (page of 50)
 * through the same gateway in the same run, printed as ratios interactions/contractors.
 *
 *   npm run bench:interactions    (needs `node tools/infra/infra.mjs up postgres`; does it itself)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 npm run bench:interactions
 *   BENCH_KEEP_DB=true npm run bench:interactions   (keeps the seeded databases for EXPLAIN)
 *
 * Path: client -> gateway (auth, rate limit off, route table, streaming proxy) -> interactions
 * (auth, validation, one SQL statement with the documents and payments aggregated as JSON) ->
 * back. Each service in its own process and its own database, in-process event bus: the
 * interactions read models (contractor_replica, document_replica) and the interactions are
 * seeded with SQL, since 10,000 interactions through the API would take minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import {
  createTestDatabase,
  dropDatabase,
  infra,
  infraEnv,
  startService,
  TEST_JWT_SECRET,
  testToken,
  type RunningService,
} from '@papka/testing';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ACCOUNT = 'bench';
const CONTRACTORS = 50;
const INTERACTIONS = 10_000;
const DOCS_PER = 3;
const PAYMENTS_PER = 2;
/** Leave the two databases behind (their URLs are printed) to EXPLAIN the queries afterwards. */
const keep = process.env.BENCH_KEEP_DB === 'true';

interface Result {
  rps: number;
  p50: number;
  p99: number;
  /** Completed requests over both halves (few means the percentiles are rough). */
  requests: number;
  errors: number;
  non2xx: number;
  /** Median of sequential single requests on the idle system, no concurrency. */
  alone: number;
}

interface Run {
  latencies: number[];
  requests: number;
  duration: number;
  errors: number;
  non2xx: number;
}

/**
 * One autocannon run of at least `duration` seconds and at least `minCompleted` answers (a slow
 * endpoint would otherwise finish a short window with no request done: autocannon drops the
 * ones in flight). Every 2xx latency is kept so that two halves merge into exact percentiles.
 */
function run(url: string, token: string, duration: number, minCompleted = 2 * connections): Promise<Run> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let completed = 0;
    const started = Date.now();
    const instance = autocannon(
      { url, headers: { authorization: `Bearer ${token}` }, connections, duration: 300, timeout: 60 },
      (err: unknown, r: autocannon.Result) => {
        clearInterval(check);
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve({ latencies, requests: r.requests.total, duration: r.duration, errors: r.errors, non2xx: r.non2xx });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      completed++;
      if (status >= 200 && status < 300) latencies.push(ms);
    });
    const check = setInterval(() => {
      if (Date.now() - started >= duration * 1000 && completed >= minCompleted) instance.stop();
    }, 20);
  });
}

const percentile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);

function merge(runs: Run[], alone: number): Result {
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const requests = runs.reduce((s, r) => s + r.requests, 0);
  const duration = runs.reduce((s, r) => s + r.duration, 0);
  return {
    rps: requests / duration,
    p50: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    requests,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    alone,
  };
}

/** Median wall time of `n` GETs one after another. */
async function alone(url: string, token: string, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return percentile(times.sort((a, b) => a - b), 0.5);
}

/**
 * Waits until PostgreSQL runs no statement of the bench databases: autocannon drops its
 * connections when a run ends, but the queries they started still run and would load the next
 * scenario (a deep page costs hundreds of milliseconds each).
 */
async function settle(adminUrl: string, dbs: string[]): Promise<void> {
  const pg = new Client({ connectionString: adminUrl });
  await pg.connect();
  try {
    const names = dbs.map((u) => new URL(u).pathname.slice(1));
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      const { rows } = await pg.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = ANY($1) AND state = 'active' AND pid <> pg_backend_pid()`,
        [names],
      );
      if (rows[0].n === '0') break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await pg.end();
  }
}

const ms = (v: number) => (Number.isNaN(v) ? '     -' : v.toFixed(1).padStart(6));
const x = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '   -' : `x${(a / Math.max(b, 0.01)).toFixed(2)}`);

const stats = (r: Result) =>
  `${r.rps.toFixed(1).padStart(6)} req/s  p50 ${ms(r.p50)} ms  p99 ${ms(r.p99)} ms  (n=${String(r.requests).padStart(5)})  alone ${ms(r.alone)} ms`;

const row = (name: string, r: Result, base: Result) =>
  [
    name.padEnd(24),
    stats(r),
    base === r
      ? ''
      : `| /contractors: req/s ${(r.rps / base.rps).toFixed(3)}  p50 ${x(r.p50, base.p50)}  p99 ${x(r.p99, base.p99)}  alone ${x(r.alone, base.alone)}`,
    r.errors + r.non2xx > 0 ? `  (errors ${r.errors}, non-2xx ${r.non2xx})` : '',
  ].join('  ');

interface ContractorItem {
  uuid: string;
  mainInfo: { name: string; inn: string | null; address: string | null };
}
interface InteractionItem {
  uuid: string;
  status: number;
  documents: unknown[];
  payments: unknown[];
}

/**
 * The interactions database, seeded in a few statements. Ids are md5-derived UUIDs of the row
 * number, so the links can be generated without reading anything back: interaction n owns
 * documents 3n-2..3n and payments 2n-1..2n. One interaction an hour for ~14 months, newest
 * first; statuses 1-5 in turn; contractors round-robin.
 */
async function seedInteractions(url: string, contractors: ContractorItem[]): Promise<void> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    await pg.query('BEGIN');
    await pg.query(
      `INSERT INTO contractor_replica (id, account_id, name, inn, address, bank_accounts, deleted, version)
       SELECT c.id, $1, c.name, c.inn, c.address, '[]'::jsonb, false, 1
         FROM json_to_recordset($2::json) AS c(id uuid, name text, inn text, address text)`,
      [ACCOUNT, JSON.stringify(contractors.map((c) => ({ id: c.uuid, ...c.mainInfo })))],
    );
    await pg.query(
      `INSERT INTO interaction (id, account_id, contractor_id, name, description, sum, status, created_at, updated_at)
       SELECT md5('i' || g)::uuid, $1, ($2::uuid[])[1 + g % array_length($2::uuid[], 1)],
              'Сделка №' || g, '<p>Поставка по договору <b>№' || g || '</b></p>',
              (1000 + g::bigint * 7919 % 500000) * 100, 1 + g % 5,
              now() - g * interval '1 hour', now() - g * interval '1 hour' + interval '10 minutes'
         FROM generate_series(1, $3::int) g`,
      [ACCOUNT, contractors.map((c) => c.uuid), INTERACTIONS],
    );
    await pg.query(
      `INSERT INTO document_replica (id, account_id, name, type, status, render_state, filename, content_type,
                                     storage_key, masks, sum, created_at, deleted, version)
       SELECT md5('d' || g)::uuid, $1::text, 'Счёт на оплату №' || g, (ARRAY['invoice', 'act', 'contract'])[1 + g % 3],
              1 + g % 5, 'rendered', 'doc-' || g || '.pdf', 'application/pdf', $1::text || '/doc-' || g || '.pdf',
              jsonb_build_object('number', g::text, 'date', to_char(now() - g * interval '20 minutes', 'DD.MM.YYYY')),
              (500 + g::bigint * 104729 % 200000) * 100, now() - g * interval '20 minutes', false, 1
         FROM generate_series(1, $2::int) g`,
      [ACCOUNT, INTERACTIONS * DOCS_PER],
    );
    await pg.query(
      `INSERT INTO interaction_document (interaction_id, document_id, attached_at)
       SELECT md5('i' || ((g - 1) / $1 + 1))::uuid, md5('d' || g)::uuid, now() - g * interval '20 minutes' + interval '1 minute'
         FROM generate_series(1, $2::int) g`,
      [DOCS_PER, INTERACTIONS * DOCS_PER],
    );
    await pg.query(
      `INSERT INTO interaction_payment (id, interaction_id, type, name, sum, date, contractor_bank, created_at)
       SELECT md5('p' || g)::uuid, md5('i' || ((g - 1) / $1 + 1))::uuid,
              CASE WHEN g % 4 = 0 THEN 'outcome' ELSE 'income' END, 'Платёжное поручение №' || g,
              (100 + g::bigint * 31337 % 100000) * 100, (now() - g * interval '30 minutes')::date,
              CASE WHEN g % 2 = 0 THEN NULL
                   ELSE jsonb_build_object('uuid', md5('b' || g)::uuid, 'bik', '044525225', 'number', '40702810' || lpad(g::text, 12, '0'),
                                           'name', 'ПАО Сбербанк') END,
              now() - g * interval '30 minutes'
         FROM generate_series(1, $2::int) g`,
      [PAYMENTS_PER, INTERACTIONS * PAYMENTS_PER],
    );
    await pg.query('COMMIT');
    await pg.query('ANALYZE');
  } catch (err) {
    await pg.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await pg.end();
  }
}

/** The body parsed, and its size in bytes (the two lists differ a lot in payload). */
async function getJson<T extends object>(url: string, token: string): Promise<T & { bytes: number }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${text}`);
  return Object.assign(JSON.parse(text) as T, { bytes: Buffer.byteLength(text) });
}

/** Fails loudly unless the page is 50 interactions each with its 3 documents and 2 payments. */
function checkPage(what: string, page: InteractionItem[], status?: number): void {
  const bad = page.filter((i) => i.documents.length !== DOCS_PER || i.payments.length !== PAYMENTS_PER || (status !== undefined && i.status !== status));
  if (page.length !== 50 || bad.length > 0) {
    throw new Error(
      `${what}: expected 50 interactions with ${DOCS_PER} documents and ${PAYMENTS_PER} payments${status ? ` and status ${status}` : ''}, ` +
        `got ${page.length} items, ${bad.length} not matching (first: ${JSON.stringify(bad[0] ?? null).slice(0, 300)})`,
    );
  }
}

async function main(): Promise<void> {
  await infra('up', 'postgres');
  const contractorsDb = await createTestDatabase('bench_contractors');
  const interactionsDb = await createTestDatabase('bench_interactions');
  const storageRoot = mkdtempSync(path.join(tmpdir(), 'papka-bench-storage-'));
  // Each service in its own process, as deployed; the load generator in this one.
  const env = { NODE_ENV: 'production', LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_JWT_SECRET };
  const data = { DATABASE_CREATE: 'false', EVENT_BUS: 'memory', DATABASE_POOL_SIZE: '20' };
  const running: RunningService[] = [];
  try {
    const contractors = await startService('contractors', { ...env, ...data, DATABASE_URL: contractorsDb });
    running.push(contractors);
    const interactions = await startService('interactions', {
      ...env,
      ...data,
      DATABASE_URL: interactionsDb,
      STORAGE_DRIVER: 'fs',
      STORAGE_FS_ROOT: storageRoot,
    });
    running.push(interactions);
    const gateway = await startService('gateway', {
      ...env,
      CONTRACTORS_URL: contractors.url,
      INTERACTIONS_URL: interactions.url,
      RATE_LIMIT_POINTS: '100000000',
    });
    running.push(gateway);

    const token = await testToken(ACCOUNT);
    for (let i = 0; i < CONTRACTORS; i++) {
      const res = await fetch(`${gateway.url}/v2/docs/contractors`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 3, name: `Контрагент ${i}`, address: `г Москва, ул Тверская, д ${i + 1}` }),
      });
      if (res.status !== 201) throw new Error(`seeding contractors failed: HTTP ${res.status} ${await res.text()}`);
    }
    const contractorPage = await getJson<ContractorItem[]>(`${gateway.url}/v2/contractors`, token);
    if (contractorPage.length !== CONTRACTORS) throw new Error(`contractors list: expected ${CONTRACTORS} items, got ${contractorPage.length}`);

    const seedStarted = Date.now();
    await seedInteractions(interactionsDb, contractorPage);
    const seedMs = Date.now() - seedStarted;

    const listUrl = `${gateway.url}/v2/docs/interactions`;
    const scenarios = [
      { name: 'contractors (page of 50)', url: `${gateway.url}/v2/contractors` },
      { name: 'interactions', url: listUrl },
      { name: 'interactions ?status=2', url: `${listUrl}?status=2` },
      { name: 'interactions ?page=150', url: `${listUrl}?page=150` },
    ];
    const firstPage = await getJson<InteractionItem[]>(scenarios[1].url, token);
    checkPage('interactions', firstPage);
    checkPage('interactions ?status=2', await getJson<InteractionItem[]>(scenarios[2].url, token), 2);
    checkPage('interactions ?page=150', await getJson<InteractionItem[]>(scenarios[3].url, token));

    console.log(
      `papka interactions bench: ${seconds}s per scenario (two halves), ${connections} connections; ` +
        `${INTERACTIONS} interactions x ${DOCS_PER} documents + ${PAYMENTS_PER} payments, ${CONTRACTORS} contractors; ` +
        `seeded by SQL in ${(seedMs / 1000).toFixed(1)} s; page bodies: contractors ${(contractorPage.bytes / 1024).toFixed(0)} KiB, ` +
        `interactions ${(firstPage.bytes / 1024).toFixed(0)} KiB`,
    );
    const warmUp = Math.max(1, Math.min(3, seconds / 2));
    const admin = infraEnv().PG_URL;
    const dbs = [contractorsDb, interactionsDb];
    for (const s of scenarios) {
      await run(s.url, token, warmUp, connections);
      await settle(admin, dbs);
    }
    const aloneMs = new Map<string, number>();
    for (const s of scenarios) aloneMs.set(s.name, await alone(s.url, token, 7));
    // A B C D D C B A: every scenario's two halves sit symmetrically around the middle of the
    // run, so a linear drift of the machine hits all of them alike.
    const half = seconds / 2;
    const runs = new Map<string, Run[]>(scenarios.map((s) => [s.name, []]));
    for (const s of [...scenarios, ...[...scenarios].reverse()]) {
      runs.get(s.name)!.push(await run(s.url, token, half));
      await settle(admin, dbs);
    }
    const results = scenarios.map((s) => ({ name: s.name, r: merge(runs.get(s.name)!, aloneMs.get(s.name)!) }));
    const base = results[0].r;
    for (const { name, r } of results) console.log(row(name, r, base));
  } finally {
    for (const s of running.reverse()) await s.stop().catch(() => undefined);
    if (keep) {
      console.log(`kept: interactions ${interactionsDb}  contractors ${contractorsDb}`);
    } else {
      await dropDatabase(interactionsDb).catch(() => undefined);
      await dropDatabase(contractorsDb).catch(() => undefined);
    }
    rmSync(storageRoot, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
