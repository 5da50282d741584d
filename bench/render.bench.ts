/**
 * Benchmark (not a test): HTML -> PDF through RenderPool beside the floor, raw puppeteer-core
 * `setContent` + `page.pdf()` on warm reused pages of a browser with the same flags, measured
 * in the same run and printed as ratios. Then the memory of the node process and the Chromium
 * process tree before and after many renders through the pool.
 *
 *   node -r @swc-node/register bench/render.bench.ts
 *   BENCH_RENDERS=400 BENCH_MEMORY_RENDERS=2000 CHROMIUM_PATH=/usr/bin/chromium node -r @swc-node/register bench/render.bench.ts
 *
 * Needs only the browser (no infrastructure; `npm ci` brings the default one). A one-page invoice, every asset inline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { CHROMIUM_ARGS, RenderPool, resolveBrowserPath } from '@papka/render-pool';
import { INVOICE_HTML } from './invoice';

// The documents service's browser: CHROMIUM_PATH, else the npm chrome-headless-shell.
const executablePath = resolveBrowserPath({ chromiumPath: process.env.CHROMIUM_PATH }).path;
const renders = Number(process.env.BENCH_RENDERS ?? 200);
const memoryRenders = Number(process.env.BENCH_MEMORY_RENDERS ?? 1000);
const concurrencies = [1, 2, 4];
const WARMUP = 10;


interface Result {
  pdfsPerSecond: number;
  p50: number;
  p99: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** `count` renders by `concurrency` workers, each awaiting its previous render. */
async function measure(count: number, concurrency: number, render: (worker: number) => Promise<unknown>): Promise<{ ms: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next++ < count) {
        const t = performance.now();
        await render(worker);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { ms: performance.now() - started, latencies };
}

/** Runs two scenarios in halves, A B B A, so that drift of a noisy machine hits both alike. */
async function abba(
  concurrency: number,
  a: (worker: number) => Promise<unknown>,
  b: (worker: number) => Promise<unknown>,
): Promise<[Result, Result]> {
  const half = Math.max(1, Math.floor(renders / 2));
  await measure(WARMUP, concurrency, a);
  await measure(WARMUP, concurrency, b);
  const a1 = await measure(half, concurrency, a);
  const b1 = await measure(half, concurrency, b);
  const b2 = await measure(half, concurrency, b);
  const a2 = await measure(half, concurrency, a);
  const result = (x: typeof a1, y: typeof a1): Result => {
    const sorted = [...x.latencies, ...y.latencies].sort((p, q) => p - q);
    return { pdfsPerSecond: (sorted.length * 1000) / (x.ms + y.ms), p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  return [result(a1, a2), result(b1, b2)];
}

const fmt = (r: Result) =>
  `${r.pdfsPerSecond.toFixed(1).padStart(6)} PDF/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms`;

// ---- memory: RSS of a process tree from /proc ---------------------------------------------

function parentOf(pid: number): number | undefined {
  try {
    // The command name may hold spaces and parentheses; the fields after its closing ')' do not.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const ppid = parentOf(pid);
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const tree: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    tree.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** kB from a `Key:   123 kB` line of /proc/<pid>/status or smaps_rollup; 0 for a zombie or a gone process. */
function procKb(file: string, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function memory(browserPid: number): { nodeMb: number; chromiumRssMb: number; chromiumPssMb: number; processes: number } {
  const tree = processTree(browserPid).filter((pid) => procKb(`/proc/${pid}/status`, 'VmRSS') > 0);
  const sum = (f: (pid: number) => number) => tree.reduce((s, pid) => s + f(pid), 0) / 1024;
  return {
    nodeMb: process.memoryUsage().rss / 1024 / 1024,
    chromiumRssMb: sum((pid) => procKb(`/proc/${pid}/status`, 'VmRSS')),
    // RSS counts pages shared between Chromium's processes once per process; PSS splits them.
    chromiumPssMb: sum((pid) => procKb(`/proc/${pid}/smaps_rollup`, 'Pss')),
    processes: tree.length,
  };
}

const fmtMem = (m: ReturnType<typeof memory>) =>
  `node RSS ${m.nodeMb.toFixed(0)} MB, Chromium RSS ${m.chromiumRssMb.toFixed(0)} MB (PSS ${m.chromiumPssMb.toFixed(0)} MB, ${m.processes} processes), total RSS ${(m.nodeMb + m.chromiumRssMb).toFixed(0)} MB`;

// ---- main ---------------------------------------------------------------------------------

const PDF_OPTIONS = { format: 'A4', printBackground: true, tagged: false, preferCSSPageSize: true } as const;

async function main(): Promise<void> {
  console.log(
    `render bench: ${renders} renders per scenario (+${WARMUP} warm-up), one-page invoice (${INVOICE_HTML.length} chars), ` +
      `${os.cpus().length} CPUs, ${executablePath}`,
  );
  const floorBrowser: Browser = await puppeteer.launch({ executablePath, headless: true, pipe: true, args: [...CHROMIUM_ARGS] });
  console.log(`Chromium ${await floorBrowser.version()}`);
  try {
    for (const concurrency of concurrencies) {
      const pool = new RenderPool({ executablePath, pages: concurrency, queueLimit: 1_000 });
      await pool.start();
      const floorPages: Page[] = await Promise.all(Array.from({ length: concurrency }, () => floorBrowser.newPage()));
      try {
        const [papka, floor] = await abba(
          concurrency,
          () => pool.render(INVOICE_HTML),
          async (worker) => {
            const page = floorPages[worker];
            await page.setContent(INVOICE_HTML, { waitUntil: 'load' });
            return page.pdf(PDF_OPTIONS);
          },
        );
        console.log(
          [
            `c=${concurrency}`,
            `pool ${fmt(papka)}`,
            `| floor ${fmt(floor)}`,
            `| ratio PDF/s ${(papka.pdfsPerSecond / floor.pdfsPerSecond).toFixed(3)}  p50 x${(papka.p50 / floor.p50).toFixed(2)}  p99 x${(papka.p99 / floor.p99).toFixed(2)}`,
          ].join('  '),
        );
      } finally {
        await Promise.all(floorPages.map((p) => p.close()));
        await pool.close();
      }
    }
  } finally {
    await floorBrowser.close();
  }

  // Memory: the pool as deployed (default pages), same invoice, many renders.
  const pool = new RenderPool({ executablePath, queueLimit: 1_000 });
  await pool.start();
  try {
    const pages = pool.stats().pages;
    await measure(50, pages, () => pool.render(INVOICE_HTML));
    const pid = pool.browserPid() as number;
    const total = (m: ReturnType<typeof memory>) => m.nodeMb + m.chromiumRssMb;
    const before = memory(pid);
    console.log(`memory, pool of ${pages} pages (recycled every 200 jobs), before ${memoryRenders} renders: ${fmtMem(before)}`);
    // A page's renderer grows over its first jobs and drops when it is recycled, so sample the
    // whole run: flat means the samples stay in one band, not that any two are equal.
    const samples: ReturnType<typeof memory>[] = [];
    const step = Math.max(1, Math.floor(memoryRenders / 10));
    for (let done = 0; done < memoryRenders; done += step) {
      await measure(Math.min(step, memoryRenders - done), pages, () => pool.render(INVOICE_HTML));
      samples.push(memory(pid));
      console.log(`  after ${String(Math.min(done + step, memoryRenders)).padStart(5)}: ${fmtMem(samples.at(-1) as ReturnType<typeof memory>)}`);
    }
    const after = samples.at(-1) as ReturnType<typeof memory>;
    const half = samples.slice(Math.floor(samples.length / 2));
    const firstHalf = samples.slice(0, Math.floor(samples.length / 2));
    const band = (xs: ReturnType<typeof memory>[]) => `${Math.min(...xs.map(total)).toFixed(0)}..${Math.max(...xs.map(total)).toFixed(0)} MB`;
    const s = pool.stats();
    console.log(
      `memory: total RSS before ${total(before).toFixed(0)} MB, after ${total(after).toFixed(0)} MB ` +
        `(delta ${(total(after) - total(before)).toFixed(0)} MB; band first half ${band(firstHalf)}, second half ${band(half)}); ` +
        `node RSS ${before.nodeMb.toFixed(0)} -> ${after.nodeMb.toFixed(0)} MB; page recycles ${s.pageRecycles}, browser restarts ${s.browserRestarts}`,
    );
  } finally {
    await pool.close();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
