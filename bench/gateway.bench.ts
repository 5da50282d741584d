/**
 * Benchmark (not a test): contractors list and create through the gateway, beside a bare
 * Nest endpoint measured in the same run on the same machine, printed as ratios.
 *
 *   npm run bench            (needs `node tools/infra/infra.mjs up postgres`; does it itself)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 npm run bench
 *
 * Papka path: client -> gateway (auth, rate limit off, route table, streaming proxy)
 * -> contractors (auth, validation, PostgreSQL, outbox) -> back. The in-process event bus is
 * used so the numbers measure the request path, not Kafka.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import {
  createTestDatabase,
  dropDatabase,
  infra,
  startService,
  TEST_JWT_SECRET,
  testToken,
  type RunningService,
} from '@papka/testing';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, opts: { method?: 'GET' | 'POST'; body?: string; token?: string }): Promise<Result> {
  const r = await autocannon({
    url,
    method: opts.method ?? 'GET',
    body: opts.body,
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    connections,
    duration: seconds,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

const row = (name: string, papka: Result, bare: Result) =>
  [
    name.padEnd(8),
    `${papka.rps.toFixed(0).padStart(7)} req/s  p50 ${papka.p50.toFixed(1).padStart(6)} ms  p99 ${papka.p99.toFixed(1).padStart(6)} ms`,
    `| bare ${bare.rps.toFixed(0).padStart(7)} req/s  p50 ${bare.p50.toFixed(1).padStart(6)} ms  p99 ${bare.p99.toFixed(1).padStart(6)} ms`,
    `| ratio req/s ${(papka.rps / bare.rps).toFixed(3)}  p50 x${(papka.p50 / Math.max(bare.p50, 0.01)).toFixed(1)}  p99 x${(papka.p99 / Math.max(bare.p99, 0.01)).toFixed(1)}`,
    papka.errors + papka.non2xx > 0 ? `  (papka errors ${papka.errors}, non-2xx ${papka.non2xx})` : '',
  ].join('  ');

async function main(): Promise<void> {
  await infra('up', 'postgres');
  const db = await createTestDatabase('bench');
  // Each service in its own process, as deployed; the load generator in this one.
  const env = { NODE_ENV: 'production', LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_JWT_SECRET };
  const running: RunningService[] = [];
  try {
    const contractors = await startService('contractors', {
      ...env,
      DATABASE_URL: db,
      DATABASE_CREATE: 'false',
      EVENT_BUS: 'memory',
      DATABASE_POOL_SIZE: '20',
    });
    running.push(contractors);
    const gateway = await startService('gateway', { ...env, CONTRACTORS_URL: contractors.url, RATE_LIMIT_POINTS: '100000000' });
    running.push(gateway);

    const token = await testToken('bench');
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${gateway.url}/v2/docs/contractors`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 3, name: `Контрагент ${i}`, address: 'г Москва, ул Тверская, д 1' }),
      });
      if (res.status !== 201) throw new Error(`seeding failed: HTTP ${res.status}`);
    }
    const page = (await (await fetch(`${gateway.url}/v2/contractors`, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown[];
    const listFile = path.join(mkdtempSync(path.join(tmpdir(), 'papka-bench-')), 'list.json');
    writeFileSync(listFile, JSON.stringify(page));
    const bare = await startService('bare', { BARE_LIST_JSON: listFile }, { entry: 'bench/bare-server.ts' });
    running.push(bare);
    const createBody = JSON.stringify({ type: 3, name: 'ООО Нагрузка', address: 'г Москва' });

    console.log(`papka bench: ${seconds}s per scenario, ${connections} connections, list page of ${page.length}`);
    await load(`${bare.url}/bare/list`, {}); // warm-up of both paths
    await load(`${gateway.url}/v2/contractors`, { token });
    const listBare = await load(`${bare.url}/bare/list`, {});
    const listPapka = await load(`${gateway.url}/v2/contractors`, { token });
    const createBare = await load(`${bare.url}/bare/create`, { method: 'POST', body: createBody });
    const createPapka = await load(`${gateway.url}/v2/docs/contractors`, { method: 'POST', body: createBody, token });
    console.log(row('list', listPapka, listBare));
    console.log(row('create', createPapka, createBare));
  } finally {
    for (const s of running.reverse()) await s.stop().catch(() => undefined);
    await dropDatabase(db).catch(() => undefined);
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
