/**
 * Benchmark (not a test): documents from the public API to a stored PDF, beside the floor (raw
 * puppeteer-core `setContent` + `page.pdf()` of the same HTML on warm pages of the browser the
 * documents service ships, launched as it launches it), measured in the same run, as ratios.
 * For the built-in invoice the floor renders the invoice's HTML as the renderer makes it (the
 * service's template code on a document of the run).
 *
 *   npm run bench:render-e2e                       (starts PostgreSQL, Kafka and MinIO through tools/infra)
 *   BENCH_DOCS=400 BENCH_MODES=embedded npm run bench:render-e2e
 *   BENCH_PROFILE=true npm run bench:render-e2e    (the documents process under --cpu-prof)
 *
 * Path: client -> gateway -> documents `POST /v2/docs/constructor` (validation, PostgreSQL,
 * outbox) -> bus (render request) -> the documents renderer (rows, template data, Handlebars,
 * the render pool's Chromium, object storage, PostgreSQL and the outbox) -> `rendered`.
 * Two templates: the one-page invoice HTML of bench/render.bench.ts uploaded as an account's
 * template, and the built-in invoice (Счёт на оплату, with a payment QR). Two modes:
 * - embedded: `tools/embedded/start.ts` (`npm start`) in its own process: every service in one
 *   process, embedded PostgreSQL, the in-process bus, filesystem storage;
 * - distributed: contractors, documents and the gateway each in its own process, on the
 *   PostgreSQL, Kafka and MinIO of tools/infra.
 * The fake DaData (libs/testing) runs in this process. A document counts as rendered when its
 * row leaves `pending`: this process polls the documents database for just the ids still
 * pending (one indexed statement every 20 ms), not the API's list. Where the time goes per
 * document is read from the service's `papka_render_phase_seconds` histogram (its /metrics),
 * before and after each scenario.
 *
 * The services use their real consumer groups in distributed mode, which the integration tests
 * use too: run it under `flock /tmp/int-test.lock` on a machine where tests run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import puppeteer, { type Page } from 'puppeteer-core';
import { CHROMIUM_ARGS, chromiumLaunchEnv, resolveBrowserPath } from '@papka/render-pool';
import {
  createTestDatabase,
  dadataEnv,
  dropDatabase,
  FIXTURE_ACCOUNT_NUMBER,
  FIXTURE_BIK,
  FIXTURE_INN,
  freePort,
  infra,
  infraEnv,
  REPO_ROOT,
  s3Env,
  startFakeDadata,
  startService,
  TEST_JWT_SECRET,
  testToken,
  type FakeDadata,
  type RunningService,
} from '@papka/testing';
// The built-in invoice's HTML as the renderer makes it, for its floor (the service's own code).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { buildTemplateData, builtinTemplateByKind } from '../apps/documents/src/templates/builtin/builtin';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { compileTemplate, renderHtml } from '../apps/documents/src/templates/engine/handlebars-engine';
import { INVOICE_HTML, INVOICE_LINES } from './invoice';

/** The fonts the documents service gives its browser (apps/documents/src/templates/engine/fonts.ts). */
const FONTS_DIR = path.join(REPO_ROOT, 'apps/documents/assets/fonts');
const CORES = os.cpus().length;
const DOCS = Number(process.env.BENCH_DOCS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? CORES);
const FLOOR_RENDERS = Number(process.env.BENCH_FLOOR_RENDERS ?? 200);
const MODES = (process.env.BENCH_MODES ?? 'embedded,distributed').split(',').map((m) => m.trim());
const TEMPLATES = (process.env.BENCH_TEMPLATES ?? 'uploaded,builtin').split(',').map((m) => m.trim());
const PROFILE = process.env.BENCH_PROFILE === 'true';
const PROFILE_DIR = path.resolve('.cache/bench-prof');
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 15 * 60_000);
/** How often the bench checks which documents are done (its own load on the documents database). */
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 20);
const ACCOUNT = `bench-render-${Date.now().toString(36)}`;
const executablePath = resolveBrowserPath({ chromiumPath: process.env.CHROMIUM_PATH }).path;
const deadline = Date.now() + TIMEOUT_MS;

// ---- the HTML: the one-page invoice of bench/render.bench.ts (bench/invoice.ts) ------------------

const builtinMasks = (n: number) => ({
  number: String(n),
  date: '2026-03-14',
  vatRate: '20',
  vatMode: 'on-top',
  lines: INVOICE_LINES.map(([title, quantity, measure, price]) => ({ title, measure, quantity, price })),
});

// ---- helpers -----------------------------------------------------------------------------------

class Aborted extends Error {}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const checkDeadline = (what: string) => {
  if (Date.now() > deadline) throw new Aborted(`aborted after ${TIMEOUT_MS / 1000} s (BENCH_TIMEOUT_MS) while ${what}`);
};
const percentile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN);

async function until<T>(what: string, probe: () => Promise<T | null | false> | T | null | false, everyMs = 100): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== null && v !== false) return v;
    checkDeadline(what);
    await sleep(everyMs);
  }
}

async function call<T>(base: string, token: string, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${route}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

// ---- memory of a process tree from /proc ---------------------------------------------------------

/** RSS (MB) of `root` and its descendants except PostgreSQL's (embedded mode runs it as a child). */
function treeRssMb(root: number): number {
  const stats = procStats();
  const children = childrenOf(stats);
  let kb = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    if (/^postgres|^pg_ctl/.test(stats.get(pid)?.comm ?? '')) continue;
    try {
      kb += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
    todo.push(...(children.get(pid) ?? []));
  }
  return kb / 1024;
}

/** Every process in /proc: its command name, parent, own CPU ticks (utime, stime) and reaped children's (cutime, cstime). */
function procStats(): Map<number, { comm: string; ppid: number; ticks: number; reaped: number }> {
  const out = new Map<number, { comm: string; ppid: number; ticks: number; reaped: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      out.set(pid, { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) });
    } catch {
      // gone
    }
  }
  return out;
}

function childrenOf(stats: ReturnType<typeof procStats>): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  return children;
}

/** CPU time (ms) of the processes under `roots` by kind (node, chromium, postgres), from /proc (clock ticks of 10 ms). */
function treeCpuMs(roots: number[]): Record<'node' | 'chromium' | 'postgres', number> {
  const stats = procStats();
  const children = childrenOf(stats);
  const out = { node: 0, chromium: 0, postgres: 0 };
  const todo = [...roots];
  while (todo.length) {
    const pid = todo.pop()!;
    const s = stats.get(pid);
    if (s) {
      const kind = /^postgres|^pg_ctl/.test(s.comm) ? 'postgres' : /^node|^MainThread/.test(s.comm) ? 'node' : 'chromium';
      // Children that ended count in their parent's cutime/cstime: a Chromium renderer's in its
      // browser's. Not for node, where they would be a restarted browser's whole life.
      out[kind] += (s.ticks + (kind === 'node' ? 0 : s.reaped)) * 10;
    }
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Busy and total CPU time of the whole machine (ms, all cores), from /proc/stat: user, nice, system, irq, softirq, steal. */
function machineCpuMs(): { busy: number; total: number; irq: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy * 10, total: (busy + idle + iowait) * 10, irq: (irq + softirq) * 10 };
}

/** CPU time (ms) of every process on the machine, grouped by what it is (its command name), from /proc. */
function cpuByProgram(): Map<string, number> {
  const out = new Map<string, number>();
  for (const { comm, ticks, reaped } of procStats().values()) {
    const group = /^postgres|^pg_ctl/.test(comm) ? 'postgres' : /^java/.test(comm) ? 'kafka' : /^minio/.test(comm) ? 'minio' : /^node|^MainThread/.test(comm) ? 'node' : /chrom|headless/i.test(comm) ? 'chromium' : 'other';
    // With the children it reaped (a Chromium renderer that ended counts in its browser), so what ended inside the window counts.
    out.set(group, (out.get(group) ?? 0) + (ticks + reaped) * 10);
  }
  return out;
}

// ---- the floor ----------------------------------------------------------------------------------

const PDF_OPTIONS = { format: 'A4', printBackground: true, tagged: false, preferCSSPageSize: true } as const;

/** PDF/s of `renders` raw setContent + pdf() on `c` warm pages, each worker awaiting its previous one. */
async function floor(pages: Page[], renders: number, browserPid?: number, html = INVOICE_HTML): Promise<number> {
  let next = 0;
  const cpu = browserPid ? treeCpuMs([browserPid]).chromium : 0;
  const t = performance.now();
  await Promise.all(
    pages.map(async (page) => {
      while (next++ < renders) {
        await page.setContent(html, { waitUntil: 'load' });
        await page.pdf(PDF_OPTIONS);
      }
    }),
  );
  if (browserPid) floorCpuMs.push((treeCpuMs([browserPid]).chromium - cpu) / renders);
  return (renders * 1000) / (performance.now() - t);
}
/** Chromium CPU per PDF of each floor run (ms). */
const floorCpuMs: number[] = [];

// ---- a mode: where the services run and how to reach them -------------------------------------

interface Deployment {
  mode: 'embedded' | 'distributed';
  gateway: string;
  /** The documents service (its /metrics). */
  documents: string;
  documentsDb: string;
  /** The process whose tree holds the documents service and its Chromium. */
  documentsPid: number;
  /** Every process of the deployment by name (their trees' CPU is measured per scenario; PostgreSQL's in embedded mode). */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

async function startEmbedded(dadata: FakeDadata): Promise<Deployment> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'papka-bench-render-'));
  const [gw, contractors, documents, interactions, finance, pg] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const child: ChildProcess = spawn(
    process.execPath,
    [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []), '-r', '@swc-node/register', 'tools/embedded/start.ts'],
    {
      env: {
        ...process.env,
        PAPKA_DATA_DIR: dataDir,
        PORT: String(gw),
        CONTRACTORS_PORT: String(contractors),
        DOCUMENTS_PORT: String(documents),
        INTERACTIONS_PORT: String(interactions),
        FINANCE_SYNC_PORT: String(finance),
        PAPKA_PG_PORT: String(pg),
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        RATE_LIMIT_POINTS: '100000000',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        ...dadataEnv(dadata),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await until('waiting for npm start', () => {
    if (child.exitCode !== null) throw new Error(`tools/embedded/start.ts exited: ${out.slice(-2000)}`);
    return out.includes('Papka is running');
  }, 200);
  return {
    mode: 'embedded',
    gateway: `http://127.0.0.1:${gw}`,
    documents: `http://127.0.0.1:${documents}`,
    documentsDb: `postgres://papka:papka@127.0.0.1:${pg}/papka_documents`,
    documentsPid: child.pid!,
    pids: { 'npm start': child.pid! },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startDistributed(dadata: FakeDadata): Promise<Deployment> {
  await infra('up', 'postgres', 'kafka', 'minio');
  const dbs = await Promise.all(['bench_render_contractors', 'bench_render_documents'].map((p) => createTestDatabase(p)));
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    EVENT_BUS: 'kafka',
    KAFKA_BROKERS: infraEnv().KAFKA_BROKERS,
    DATABASE_CREATE: 'false',
    METRICS_PORT: '',
  };
  const running: RunningService[] = [];
  const stop = async () => {
    for (const s of running.reverse()) await s.stop().catch(() => undefined);
    for (const db of dbs) await dropDatabase(db!).catch(() => undefined);
  };
  try {
    const [contractors, documents] = await Promise.all([
      startService('contractors', { ...env, DATABASE_URL: dbs[0], ...dadataEnv(dadata) }),
      startService(
        'documents',
        { ...env, DATABASE_URL: dbs[1], ...s3Env(), S3_ACCESS_KEY: infraEnv().S3_ACCESS_KEY, S3_SECRET_KEY: infraEnv().S3_SECRET_KEY },
        PROFILE ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] } : {},
      ),
    ]);
    running.push(contractors!, documents!);
    const gateway = await startService('gateway', { ...env, CONTRACTORS_URL: contractors!.url, DOCUMENTS_URL: documents!.url, RATE_LIMIT_POINTS: '100000000' });
    running.push(gateway);
    return { mode: 'distributed', gateway: gateway.url, documents: documents!.url, documentsDb: dbs[1]!, documentsPid: documents!.pid, pids: { gateway: gateway.pid, documents: documents!.pid, contractors: contractors!.pid }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- phases from the documents service's /metrics --------------------------------------------

const PHASES = ['queue', 'data', 'html', 'pdf', 'put', 'db'] as const;
type Phases = Record<(typeof PHASES)[number], { sum: number; count: number }>;

async function phases(documents: string): Promise<Phases> {
  const text = await (await fetch(`${documents}/metrics`)).text();
  const out = Object.fromEntries(PHASES.map((p) => [p, { sum: 0, count: 0 }])) as Phases;
  for (const m of text.matchAll(/^papka_render_phase_seconds_(sum|count)\{[^}]*\bphase="(\w+)"[^}]*\} ([\d.e+-]+)$/gm)) {
    const slot = out[m[2] as keyof Phases];
    if (slot) slot[m[1] as 'sum' | 'count'] = Number(m[3]);
  }
  return out;
}

const phaseLine = (a: Phases, b: Phases) =>
  PHASES.map((p) => {
    const n = b[p].count - a[p].count;
    return `${p} ${n > 0 ? (((b[p].sum - a[p].sum) * 1000) / n).toFixed(1) : '-'}`;
  }).join(' ms, ') + ' ms';

// ---- a scenario: N constructor calls, then wait until every document left `pending` ----------

interface Scenario {
  template: string;
  docsPerSecond: number;
  p50: number;
  p99: number;
  failed: number;
  phases: string;
  rssBefore: number;
  rssAfter: number;
  /** RSS samples every 5 s during the scenario (MB). */
  rssSamples: number[];
  /** CPU per document (ms) of the deployment's processes by kind. */
  cpu: string;
  /** The whole machine: how busy its cores were, and CPU per document by program (everything running, other work included). */
  machine: string;
  /** PostgreSQL transactions per document, by database (every database of the cluster that had any). */
  transactions: string;
}

/** Committed and rolled-back transactions so far, by database (`pg_stat_database`). */
async function transactionsByDb(pg: Client): Promise<Map<string, number>> {
  const { rows } = await pg.query<{ datname: string; n: string }>(
    `SELECT datname, (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname IS NOT NULL`,
  );
  return new Map(rows.map((r) => [r.datname, Number(r.n)]));
}

async function scenario(d: Deployment, token: string, label: string, body: (n: number) => Record<string, unknown>, docs: number): Promise<Scenario> {
  const pg = new Client({ connectionString: d.documentsDb });
  await pg.connect();
  /** Stops the poller before its client closes, so a failed call is reported, not the poller's closed client. */
  let halt: (() => Promise<void>) | undefined;
  try {
    const before = await phases(d.documents);
    const rssBefore = treeRssMb(d.documentsPid);
    const cpuOf = () => Object.entries(d.pids).map(([name, pid]) => [name, treeCpuMs([pid])] as const);
    const cpuBefore = cpuOf();
    const machineBefore = machineCpuMs();
    const programsBefore = cpuByProgram();
    const txBefore = await transactionsByDb(pg);
    const calledAt = new Map<string, number>();
    const doneAt = new Map<string, number>();
    let failed = 0;
    let pending: string[] = [];
    const rssSamples: number[] = [];
    const sampler = setInterval(() => rssSamples.push(treeRssMb(d.documentsPid)), 5_000);
    let polling = true;
    // The cheap check: only the ids still pending, one indexed statement.
    const poller = (async () => {
      while (polling || pending.length > 0) {
        if (pending.length > 0) {
          const { rows } = await pg.query<{ id: string; render_state: string }>(
            `SELECT id, render_state FROM document WHERE id = ANY($1::uuid[]) AND render_state <> 'pending'`,
            [pending],
          );
          const now = performance.now();
          for (const r of rows) {
            doneAt.set(r.id, now);
            if (r.render_state !== 'rendered') failed++;
          }
          if (rows.length) pending = pending.filter((id) => !doneAt.has(id));
        }
        checkDeadline(`waiting for ${label} documents (${pending.length} pending)`);
        await sleep(POLL_MS);
      }
    })();
    // Handled here too: a poller that fails while calls are still going must not kill the process before they end.
    poller.catch(() => undefined);
    halt = async () => {
      polling = false;
      pending = [];
      await poller.catch(() => undefined);
      clearInterval(sampler);
    };
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < docs) {
          const n = next++;
          const t = performance.now();
          const made = await call<{ uuid: string }>(d.gateway, token, 'POST', '/v2/docs/constructor', body(n));
          calledAt.set(made.uuid, t);
          pending.push(made.uuid);
        }
      }),
    );
    polling = false;
    await poller.finally(() => clearInterval(sampler));
    const tEnd = Math.max(...doneAt.values());
    const latencies = [...calledAt].map(([id, t]) => doneAt.get(id)! - t).sort((a, b) => a - b);
    const after = await phases(d.documents);
    const cpuAfter = cpuOf();
    const machineAfter = machineCpuMs();
    const programsAfter = cpuByProgram();
    const busyMs = machineAfter.busy - machineBefore.busy;
    const byProgram = [...programsAfter].map(([k, v]) => [k, v - (programsBefore.get(k) ?? 0)] as const);
    // A backend reports its counts at most once a second (PostgreSQL 15+), so they are read a little later.
    await sleep(1_500);
    const txAfter = await transactionsByDb(pg);
    const transactions = [...txAfter]
      .map(([db, n]) => [db, (n - (txBefore.get(db) ?? 0)) / docs] as const)
      .filter(([, perDoc]) => perDoc >= 0.05)
      .sort((a, b) => b[1] - a[1])
      .map(([db, perDoc]) => `${db} ${perDoc.toFixed(2)}`)
      .join(', ');
    return {
      template: label,
      docsPerSecond: (docs * 1000) / (tEnd - t0),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      failed,
      phases: phaseLine(before, after),
      rssBefore,
      rssAfter: treeRssMb(d.documentsPid),
      rssSamples,
      cpu: cpuAfter
        .flatMap(([name, after], i) =>
          (['node', 'chromium', 'postgres'] as const)
            .filter((k) => after[k] > cpuBefore[i]![1][k])
            .map((k) => `${name} ${k === 'node' ? '' : `${k} `}${((after[k] - cpuBefore[i]![1][k]) / docs).toFixed(1)}`),
        )
        .join(' ms, ') + ' ms',
      machine:
        `cores ${((busyMs * 100) / (machineAfter.total - machineBefore.total)).toFixed(0)} % busy, ${(busyMs / docs).toFixed(1)} ms per document: ` +
        byProgram
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${(v / docs).toFixed(1)}`)
          .join(', ') +
        `; of the machine's, interrupts ${((machineAfter.irq - machineBefore.irq) / docs).toFixed(1)}, outside this container's processes (other tenants of the host) ${((busyMs - byProgram.reduce((a, [, v]) => a + v, 0)) / docs).toFixed(1)}`,
      transactions,
    };
  } finally {
    await halt?.();
    await pg.end();
  }
}

/** The HTML the renderer made for a built-in invoice of this run (from its row and replicas, through the service's own template code). */
async function builtinInvoiceHtml(d: Deployment): Promise<string> {
  const invoice = builtinTemplateByKind('invoice');
  const pg = new Client({ connectionString: d.documentsDb });
  await pg.connect();
  try {
    const { rows } = await pg.query(
      `SELECT d.masks, d.sum, d.created_at, cr.snapshot AS contractor, o.snapshot AS organization
         FROM document d
         LEFT JOIN contractor_replica cr ON cr.account_id = d.account_id AND cr.id = d.contractor_id
         LEFT JOIN organization_replica o ON o.account_id = d.account_id
        WHERE d.account_id = $1 AND d.template_id = $2 LIMIT 1`,
      [ACCOUNT, invoice.uuid],
    );
    const r = rows[0];
    const data = await buildTemplateData('invoice', { masks: r.masks, contractor: r.contractor, organization: r.organization, sum: Number(r.sum), now: r.created_at });
    return renderHtml(compileTemplate(invoice.source), data, { font: invoice.font });
  } finally {
    await pg.end();
  }
}

async function setUp(d: Deployment, token: string): Promise<Record<string, (n: number) => Record<string, unknown>>> {
  const contractor = await call<{ uuid: string }>(d.gateway, token, 'POST', '/v2/docs/contractors', {
    type: 1,
    inn: FIXTURE_INN,
    name: 'ИП Артиков Тимур Дилшодович',
    address: 'Московская обл, г Щёлково',
  });
  await call(d.gateway, token, 'POST', `/v2/docs/contractors/${contractor.uuid}/bank`, { bik: FIXTURE_BIK, number: FIXTURE_ACCOUNT_NUMBER });
  await call(d.gateway, token, 'PUT', '/v2/docs/organization', { inn: '7707083893', bankAccounts: [{ bik: FIXTURE_BIK, number: FIXTURE_ACCOUNT_NUMBER }] });
  const form = new FormData();
  form.append('file', new Blob([INVOICE_HTML], { type: 'text/html' }), 'invoice.html');
  const up = await fetch(`${d.gateway}/v2/docs/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  if (up.status !== 200) throw new Error(`upload: HTTP ${up.status} ${await up.text()}`);
  const { filename } = (await up.json()) as { filename: string };
  const tpl = await call<{ uuid: string }>(d.gateway, token, 'POST', '/v2/docs/templates', { name: 'Счёт (bench)', filename, masks: [], font: 'Arial' });
  const templates = await call<{ uuid: string; builtin: boolean; filename: string }[]>(d.gateway, token, 'GET', '/v2/docs/templates');
  const invoice = templates.find((t) => t.builtin && t.filename === 'schet-na-oplatu.html');
  if (!invoice) throw new Error('the built-in invoice (schet-na-oplatu.html) is not among the templates');
  // The documents service learns of the contractor and the organisation from events.
  const pg = new Client({ connectionString: d.documentsDb });
  await pg.connect();
  try {
    await until('waiting for the documents replicas of the contractor and the organisation', async () => {
      const { rows } = await pg.query(
        `SELECT (SELECT count(*) FROM contractor_replica WHERE account_id = $1 AND jsonb_array_length(snapshot->'bankInfo') > 0) AS c,
                (SELECT count(*) FROM organization_replica WHERE account_id = $1) AS o`,
        [ACCOUNT],
      );
      return Number(rows[0].c) > 0 && Number(rows[0].o) > 0;
    }, 200);
  } finally {
    await pg.end();
  }
  return {
    uploaded: (n) => ({ type: 'Счёт', template: tpl.uuid, name: `Счёт № ${n}`, contractor: contractor.uuid, sum: 2796 }),
    builtin: (n) => ({ type: 'Счёт', template: invoice.uuid, name: `Счёт № ${n}`, contractor: contractor.uuid, masks: builtinMasks(n) }),
  };
}

async function main(): Promise<void> {
  console.log(
    `render e2e bench: ${DOCS} documents per scenario at concurrency ${CONCURRENCY} (${CORES} CPUs), floor ${FLOOR_RENDERS} renders on ${CONCURRENCY} pages; ` +
      `modes ${MODES.join(', ')}; ${executablePath}`,
  );
  // The floor: the product's browser, launched with the product's flags and fonts.
  const browser = await puppeteer.launch({ executablePath, headless: true, pipe: true, args: [...CHROMIUM_ARGS], env: { ...process.env, ...chromiumLaunchEnv({ fontDirs: [FONTS_DIR] }) } });
  const floorPages = await Promise.all(Array.from({ length: CONCURRENCY }, () => browser.newPage()));
  console.log(`Chromium ${await browser.version()}`);
  const dadata = await startFakeDadata();
  const results: { mode: string; s: Scenario; floor: number }[] = [];
  try {
    await floor(floorPages, 20);
    for (const mode of MODES) {
      const d = mode === 'embedded' ? await startEmbedded(dadata) : await startDistributed(dadata);
      try {
        const token = await testToken(ACCOUNT);
        const bodies = await setUp(d, token);
        for (const template of TEMPLATES) {
          // A warm-up: a few documents through the whole path first (compiles, connections).
          await scenario(d, token, `${template} warm-up`, bodies[template]!, 4 * CONCURRENCY);
          // The floor on the same HTML: the uploaded template renders to itself; the built-in's as the renderer makes it.
          const html = template === 'builtin' ? await builtinInvoiceHtml(d) : INVOICE_HTML;
          await floor(floorPages, 10, undefined, html);
          const floorBefore = await floor(floorPages, FLOOR_RENDERS / 2, browser.process()?.pid, html);
          const s = await scenario(d, token, template, bodies[template]!, DOCS);
          const floorAfter = await floor(floorPages, FLOOR_RENDERS / 2, browser.process()?.pid, html);
          const f = (floorBefore + floorAfter) / 2;
          results.push({ mode, s, floor: f });
          console.log(
            `${mode.padEnd(11)} ${template.padEnd(8)} ${s.docsPerSecond.toFixed(1).padStart(6)} documents/s  p50 ${s.p50.toFixed(0).padStart(5)} ms  p99 ${s.p99.toFixed(0).padStart(5)} ms` +
              `  | floor ${f.toFixed(1)} PDF/s | ratio ${(s.docsPerSecond / f).toFixed(3)}${s.failed ? `  (${s.failed} FAILED)` : ''}`,
          );
          console.log(`            per document: ${s.phases}`);
          console.log(`            CPU per document: ${s.cpu} (the floor: Chromium ${floorCpuMs.slice(-2).reduce((a, b) => a + b, 0) / 2 > 0 ? (floorCpuMs.slice(-2).reduce((a, b) => a + b, 0) / 2).toFixed(1) : '-'} ms per PDF)`);
          console.log(`            machine: ${s.machine} ms`);
          console.log(`            PostgreSQL transactions per document (the bench's own polls included): ${s.transactions}`);
          console.log(
            `            documents process tree RSS ${s.rssBefore.toFixed(0)} -> ${s.rssAfter.toFixed(0)} MB` +
              (s.rssSamples.length ? ` (${s.rssSamples.length} samples every 5 s: ${Math.min(...s.rssSamples).toFixed(0)}..${Math.max(...s.rssSamples).toFixed(0)} MB)` : ''),
          );
        }
      } finally {
        await d.stop();
      }
    }
  } finally {
    await dadata.close();
    await browser.close();
  }
  console.log('');
  console.log(`| mode | template | documents/s | p50 | p99 | floor PDF/s | ratio |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
  for (const { mode, s, floor: f } of results) {
    console.log(`| ${mode} | ${s.template} | ${s.docsPerSecond.toFixed(1)} | ${s.p50.toFixed(0)} ms | ${s.p99.toFixed(0)} ms | ${f.toFixed(1)} | ${(s.docsPerSecond / f).toFixed(3)} |`);
  }
  if (PROFILE) console.log(`profile of the documents process: ${PROFILE_DIR} (written when it stops)`);
}

main()
  .then(() => process.exit(0))
  .catch((err: Error) => {
    console.error(err instanceof Aborted ? err.message : err);
    process.exit(1);
  });
