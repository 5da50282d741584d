import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './infra';

/** Services started by startService: `<pid> <owner pid>` per line. */
const CHILDREN_FILE = path.join(REPO_ROOT, '.cache/test-logs/children.pids');

/**
 * The process that owns what this one starts: the Jest run (its global setup sets the variable,
 * and its workers inherit it), else this process itself (a bench).
 */
const owner = (): number => Number(process.env.PAPKA_TEST_RUN_OWNER) || process.pid;

/** Global setup: what the run's tests start is the run's own. */
export function claimTestRun(): void {
  process.env.PAPKA_TEST_RUN_OWNER = String(process.pid);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Ends every service this run started and did not stop, and those of runs that are gone (an
 * interrupted one): Jest global setup and teardown. Services of another live process (a bench, a
 * second test run) are left to it. Only processes that still run this repository's code are
 * touched, in case a pid was reused.
 */
export function killLeftoverServices(): string[] {
  if (!existsSync(CHILDREN_FILE)) return [];
  const killed: string[] = [];
  const kept: string[] = [];
  const me = owner();
  for (const line of readFileSync(CHILDREN_FILE, 'utf8').split('\n').filter(Boolean)) {
    const [pid, by] = line.split(' ').map(Number) as [number, number | undefined];
    if (by !== undefined && by !== me && alive(by)) {
      if (alive(pid)) kept.push(line);
      continue;
    }
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // gone
    }
    if (!cmdline.includes(REPO_ROOT) || !cmdline.includes('@swc-node/register')) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(`${pid} ${cmdline.trim()}`);
    } catch {
      // exited meanwhile
    }
  }
  if (kept.length > 0) writeFileSync(CHILDREN_FILE, `${kept.join('\n')}\n`);
  else rmSync(CHILDREN_FILE, { force: true });
  return killed;
}

export interface RunningService {
  url: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Whether `port` can be listened on, on every interface (as the embedded gateway listens). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

/** The kernel's range of ports for outgoing connections (`ip_local_port_range`). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

const handedOut = new Set<number>();

/**
 * A free TCP port for a server a test starts. Below the kernel's ephemeral range: a port the
 * kernel handed out (listen(0)) and that was released went back to that range, where any
 * outgoing connection (to PostgreSQL, Kafka) could take it as its local port before the
 * service bound it, and the service failed with EADDRINUSE. Checked free on every interface,
 * and never the same twice in one process.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const from = 10_000;
  const to = low - 1;
  if (to - from >= 1_000) {
    for (let i = 0; i < 200; i++) {
      const port = from + Math.floor(Math.random() * (to - from + 1));
      if (handedOut.has(port)) continue;
      // Taken before the check, so two calls at once never answer the same port.
      handedOut.add(port);
      if (await canListen(port)) return port;
      handedOut.delete(port);
    }
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a service the way it runs in production (`apps/<name>/src/main.ts`, or `entry`, in
 * its own process) and waits for /health/live. Its log goes to `.cache/test-logs/<name>-<port>.log`.
 */
export async function startService(
  name: string,
  env: Record<string, string | undefined>,
  opts: { entry?: string; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<RunningService> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const port = await freePort();
  const logDir = path.join(REPO_ROOT, '.cache/test-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}-${port}.log`);
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), '-r', '@swc-node/register', path.join(REPO_ROOT, opts.entry ?? `apps/${name}/src/main.ts`)],
    { cwd: REPO_ROOT, env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Recorded so the suite's global teardown can end a child whose test never stopped it (a
  // failed beforeAll): a live child's pipes would keep Jest from exiting.
  appendFileSync(CHILDREN_FILE, `${child.pid} ${owner()}\n`);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = Date.now() + timeoutMs;
  for (;;) {
    const gone = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 150))]);
    if (gone !== undefined) throw new Error(`${name} exited with code ${gone} during start-up; see ${logFile}`);
    try {
      const res = await fetch(`${url}/health/live`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become live within ${timeoutMs} ms; see ${logFile}`);
    }
  }
  return {
    url,
    pid: child.pid!,
    logFile,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
