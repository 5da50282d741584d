/**
 * Benchmark (not a test): the gateway's own overhead. The contractors list and create, each
 * measured direct to the contractors service and through the gateway in the same run, and the
 * share the gateway adds to p50 and p99; the list at 10,000 contractors at concurrency 1; and a
 * bare Nest endpoint answering the same JSON (the earlier baseline, kept for its ratio).
 *
 *   npm run bench            (needs `node tools/infra/infra.mjs up postgres`; does it itself)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 npm run bench
 *   BENCH_PROFILE=true npm run bench     (gateway and contractors under --cpu-prof, .cache/bench-prof)
 *
 * Paths: direct = client -> contractors (auth, validation, PostgreSQL, outbox); through the
 * gateway = client -> gateway (auth, rate limit off, route table, streaming proxy) -> the same.
 * Each service in its own process, as deployed; the in-process event bus, so the numbers
 * measure the request path, not Kafka.
 */
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
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
const LARGE = Number(process.env.BENCH_LARGE_CONTRACTORS ?? 10_000);
const SEED_CONCURRENCY = 32;
const PROFILE = process.env.BENCH_PROFILE === 'true';
/** Also measure the large list as rounds one and two did (cold gateway), and the small list again after it. */
const COLD_LARGE = process.env.BENCH_COLD_LARGE === 'true';
const PROFILE_DIR = path.resolve('.cache/bench-prof');

interface Run {
  latencies: number[];
  requests: number;
  duration: number;
  errors: number;
  non2xx: number;
  /** CPU time (user + system) of each watched process over the run, ms. */
  cpu: Record<string, number>;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
  /** CPU ms per answered request of each watched process. */
  cpuPerRequest: Record<string, number>;
}

interface Target {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  token?: string;
}

const CLK_TCK = 100;
/** utime + stime of a process from /proc, in ms (Linux; 0 elsewhere). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * One autocannon run of at least `duration` seconds and at least `minCompleted` answers; every
 * 2xx latency (ms, sub-millisecond resolution) is kept, so halves merge into exact percentiles.
 */
function run(t: Target, c: number, duration: number, watch: Record<string, number>, minCompleted = 2 * c): Promise<Run> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let completed = 0;
    const started = Date.now();
    const cpu0 = Object.fromEntries(Object.entries(watch).map(([name, pid]) => [name, cpuMs(pid)]));
    const instance = autocannon(
      {
        url: t.url,
        method: t.method ?? 'GET',
        body: t.body,
        headers: { 'content-type': 'application/json', ...(t.token ? { authorization: `Bearer ${t.token}` } : {}) },
        connections: c,
        duration: 300,
        timeout: 60,
      },
      (err: unknown, r: autocannon.Result) => {
        clearInterval(check);
        const cpu = Object.fromEntries(Object.entries(watch).map(([name, pid]) => [name, cpuMs(pid) - cpu0[name]!]));
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve({ latencies, requests: r.requests.total, duration: r.duration, errors: r.errors, non2xx: r.non2xx, cpu });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      completed++;
      if (status >= 200 && status < 300) latencies.push(ms);
    });
    const check = setInterval(() => {
      const elapsed = Date.now() - started;
      // Past a minute more than asked, stop anyway (a service that died answers nothing).
      if (elapsed >= duration * 1000 && (completed >= minCompleted || elapsed >= duration * 1000 + 60_000)) instance.stop();
    }, 20);
  });
}

const percentile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN);

function merge(runs: Run[]): Result {
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const requests = runs.reduce((s, r) => s + r.requests, 0);
  const duration = runs.reduce((s, r) => s + r.duration, 0);
  const names = Object.keys(runs[0]?.cpu ?? {});
  return {
    rps: requests / duration,
    p50: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    requests,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    cpuPerRequest: Object.fromEntries(names.map((n) => [n, runs.reduce((s, r) => s + r.cpu[n]!, 0) / Math.max(1, requests)])),
  };
}

/**
 * The targets in the order A B .. B A, each half `seconds / 2`, so drift on a noisy machine
 * hits every one alike.
 */
async function interleaved(targets: Target[], c: number, watch: Record<string, number>): Promise<Result[]> {
  const runs: Run[][] = targets.map(() => []);
  const order = [...targets.keys(), ...[...targets.keys()].reverse()];
  for (const i of order) runs[i]!.push(await run(targets[i]!, c, seconds / 2, watch));
  return runs.map(merge);
}

const ms = (v: number) => (Number.isNaN(v) ? '     -' : v.toFixed(1).padStart(6));
const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(0)} %`.padStart(6);
const stats = (r: Result) => `${r.rps.toFixed(0).padStart(5)} req/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}`;
const cpu = (r: Result) =>
  Object.entries(r.cpuPerRequest)
    .map(([n, v]) => `${n} ${v.toFixed(2)}`)
    .join(' ');
const failures = (r: Result) => (r.errors + r.non2xx > 0 ? `  (errors ${r.errors}, non-2xx ${r.non2xx})` : '');

function pairRow(name: string, direct: Result, gateway: Result): string {
  return [
    name.padEnd(22),
    `direct ${stats(direct)}`,
    `| gateway ${stats(gateway)}`,
    `| gateway adds p50 ${pct(gateway.p50, direct.p50)}  p99 ${pct(gateway.p99, direct.p99)}`,
    `| cpu ms/req ${cpu(gateway)}${failures(direct)}${failures(gateway)}`,
  ].join('  ');
}

/** Size and framing of one list answer: bytes, Content-Length or chunked, and header count. */
async function answerShape(url: string, token: string): Promise<string> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = Buffer.from(await res.arrayBuffer());
  const framing = res.headers.get('content-length') ? `content-length ${res.headers.get('content-length')}` : `transfer-encoding ${res.headers.get('transfer-encoding')}`;
  return `${body.length} B (${framing}, ${[...res.headers.keys()].length} headers)`;
}

/** `n` calls of `fn`, `c` at a time. */
async function pool(n: number, c: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: c }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function createContractors(url: string, token: string, n: number, c: number): Promise<void> {
  await pool(n, c, async (i) => {
    const res = await fetch(`${url}/v2/docs/contractors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 3, name: `Контрагент ${i}`, address: 'г Москва, ул Тверская, д 1' }),
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`seeding failed: HTTP ${res.status}`);
  });
}

async function main(): Promise<void> {
  // PAPKA_SKIP_INFRA_UP=true (with PAPKA_INFRA_DIR): use the running infrastructure of another checkout.
  if (process.env.PAPKA_SKIP_INFRA_UP !== 'true') await infra('up', 'postgres');
  const db = await createTestDatabase('bench');
  const env = { NODE_ENV: 'production', LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_JWT_SECRET };
  const profile = PROFILE ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] } : {};
  const running: RunningService[] = [];
  try {
    const contractors = await startService(
      'contractors',
      { ...env, DATABASE_URL: db, DATABASE_CREATE: 'false', EVENT_BUS: 'memory', DATABASE_POOL_SIZE: '20' },
      profile,
    );
    running.push(contractors);
    const gateway = await startService('gateway', { ...env, CONTRACTORS_URL: contractors.url, RATE_LIMIT_POINTS: '100000000' }, profile);
    running.push(gateway);
    const watch = { gateway: gateway.pid, contractors: contractors.pid };

    const token = await testToken('bench');
    await createContractors(gateway.url, token, 50, 1);
    const listPath = '/v2/contractors';
    const page = (await (await fetch(`${gateway.url}${listPath}`, { headers: { authorization: `Bearer ${token}` } })).json()) as unknown[];
    const listFile = path.join(mkdtempSync(path.join(tmpdir(), 'papka-bench-')), 'list.json');
    writeFileSync(listFile, JSON.stringify(page));
    const bare = await startService('bare', { BARE_LIST_JSON: listFile }, { entry: 'bench/bare-server.ts' });
    running.push(bare);
    const createBody = JSON.stringify({ type: 3, name: 'ООО Нагрузка', address: 'г Москва' });

    console.log(
      `gateway bench: ${seconds}s per scenario (A B B A halves), list page of ${page.length}; cpu ms/req = CPU of each process per answer`,
    );
    // Warm-up of every path (JIT, pools, keep-alive connections).
    for (const url of [`${bare.url}/bare/list`, `${contractors.url}${listPath}`, `${gateway.url}${listPath}`]) {
      await run({ url, token }, connections, 1, {});
    }

    const list = (base: string): Target => ({ url: `${base}${listPath}`, token });
    const create = (base: string): Target => ({ url: `${base}/v2/docs/contractors`, method: 'POST', body: createBody, token });
    const [listBare, listDirect, listGateway] = await interleaved([{ url: `${bare.url}/bare/list` }, list(contractors.url), list(gateway.url)], connections, watch);
    console.log(pairRow(`list c=${connections}`, listDirect!, listGateway!));
    const [listDirect1, listGateway1] = await interleaved([list(contractors.url), list(gateway.url)], 1, watch);
    console.log(pairRow('list c=1', listDirect1!, listGateway1!));
    const [createBare, createDirect, createGateway] = await interleaved(
      [{ url: `${bare.url}/bare/create`, method: 'POST', body: createBody }, create(contractors.url), create(gateway.url)],
      connections,
      watch,
    );
    console.log(pairRow(`create c=${connections}`, createDirect!, createGateway!));
    const [createDirect1, createGateway1] = await interleaved([create(contractors.url), create(gateway.url)], 1, watch);
    console.log(pairRow('create c=1', createDirect1!, createGateway1!));

    // The list of an account with LARGE contractors, seeded through the API (direct, in parallel).
    const largeToken = await testToken('bench-large');
    const t0 = Date.now();
    await createContractors(contractors.url, largeToken, LARGE, SEED_CONCURRENCY);
    const seedSeconds = (Date.now() - t0) / 1000;
    console.log(`seeded ${LARGE} contractors in ${seedSeconds.toFixed(1)} s (${(LARGE / seedSeconds).toFixed(0)}/s, ${SEED_CONCURRENCY} in flight, direct)`);
    for (const [name, t] of [['account of 50', token], [`account of ${LARGE}`, largeToken]] as const) {
      console.log(`list answer, ${name}: direct ${await answerShape(`${contractors.url}${listPath}`, t)}; through the gateway ${await answerShape(`${gateway.url}${listPath}`, t)}`);
    }
    const large = (base: string): Target => ({ url: `${base}${listPath}`, token: largeToken });
    if (COLD_LARGE) {
      // As rounds one and two measured it: after the gateway's minute idle, 1 s at c=1 through it only.
      await run(large(gateway.url), 1, 1, {});
      const [d, g] = await interleaved([large(contractors.url), large(gateway.url)], 1, watch);
      console.log(pairRow(`list @${LARGE} c=1 cold`, d!, g!));
    }
    // The gateway sat idle through the seeding (a minute or more): warm both paths again as at the
    // start, or the phase measures a gateway warming up (~0.3 ms more CPU per request).
    for (const base of [contractors.url, gateway.url]) await run(large(base), connections, 1, {});
    const [largeDirect, largeGateway] = await interleaved([large(contractors.url), large(gateway.url)], 1, watch);
    console.log(pairRow(`list @${LARGE} c=1`, largeDirect!, largeGateway!));
    if (COLD_LARGE) {
      const [d, g] = await interleaved([list(contractors.url), list(gateway.url)], 1, watch);
      console.log(pairRow('list c=1 again', d!, g!));
    }

    const ratio = (a: Result, b: Result) => (a.rps / b.rps).toFixed(3);
    console.log(
      `bare endpoint c=${connections}: list ${stats(listBare!)}, create ${stats(createBare!)}` +
        ` | through the gateway / bare req/s: list ${ratio(listGateway!, listBare!)}, create ${ratio(createGateway!, createBare!)}`,
    );
    if (PROFILE) console.log(`profiles of the gateway and contractors: ${PROFILE_DIR} (written when they stop)`);
  } finally {
    for (const s of running.reverse()) await s.stop().catch(() => undefined);
    await dropDatabase(db).catch(() => undefined);
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
