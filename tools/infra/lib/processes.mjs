// @ts-check
// Finding executables, running commands, starting detached servers and telling whether a pid
// is still the process we started.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readText, rotateLog } from './files.mjs';
import { InfraError } from './report.mjs';
import { now, sleep } from './time.mjs';

/**
 * @typedef {object} RunOptions
 * @property {string} [logFile] the command line and its output are appended here
 * @property {number} [timeoutMs] SIGKILL after this long; 0 = never
 * @property {NodeJS.ProcessEnv} [env]
 * @property {string} [cwd]
 * @property {number} [uid]
 * @property {number} [gid]
 * @property {string} [input] written to stdin
 * @property {(line: string) => void} [onLine] called with each complete line of output
 */
/** @typedef {{ code: number, signal?: NodeJS.Signals | null, stdout: string, stderr: string, error?: Error }} RunResult */
/**
 * A process being started; `spawnError` is absent for one found running.
 * @typedef {{ pid: number | undefined, exitCode: number | string | null, spawnError?: Error | null }} Started
 */
/** @typedef {Pick<RunOptions, 'env' | 'cwd' | 'uid' | 'gid'> & { logFile: string }} DetachedOptions */

/** Finds an executable on PATH (or returns an absolute path as is, if executable). */
/** @param {string} cmd @returns {string | null} */
export function which(cmd) {
  if (cmd.includes('/')) return isExec(cmd) ? cmd : null;
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    if (isExec(p)) return p;
  }
  return null;
}

/** @param {string} p */
export function isExec(p) {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** @param {number | null | undefined} pid */
export function pidAlive(pid) {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM') return true;
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

/** @param {number} pid */
export function cmdline(pid) {
  const raw = readText(`/proc/${pid}/cmdline`);
  return raw ? raw.split('\0').filter(Boolean) : [];
}

/** True when pid is alive and its command line contains every one of `needles`. */
/** @param {number} pid @param {string[]} needles */
export function pidIsOurs(pid, needles) {
  if (!pidAlive(pid)) return false;
  const cl = cmdline(pid).join(' ');
  if (!cl) return true; // cannot inspect (other namespace); trust the pid file
  return needles.every((n) => cl.includes(n));
}

/** @param {string} file */
export function readPid(file) {
  const t = readText(file);
  if (!t) return null;
  const n = parseInt(t.split('\n')[0].trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * Runs a command to completion; resolves {code, stdout, stderr}. Output is also appended to logFile.
 * @param {string} cmd @param {string[]} args @param {RunOptions} [opts] @returns {Promise<RunResult>}
 */
export function run(cmd, args, opts = {}) {
  const { logFile, timeoutMs = 0, env, cwd, uid, gid, input, onLine } = opts;
  return new Promise((resolve) => {
    /** @type {number | null} */
    let logFd = null;
    if (logFile) {
      logFd = fs.openSync(logFile, 'a');
      fs.writeSync(logFd, `\n$ ${cmd} ${args.join(' ')}\n`);
    }
    let stdout = '';
    let stderr = '';
    /** @type {NodeJS.Timeout | null} */
    let timer = null;
    let partial = '';
    const child = spawn(cmd, args, { env: env || process.env, cwd, uid, gid, stdio: ['pipe', 'pipe', 'pipe'] });
    /** @param {'out' | 'err'} which */
    const onData = (which) => (/** @type {Buffer} */ buf) => {
      const s = buf.toString();
      if (which === 'out') stdout += s;
      else stderr += s;
      if (stdout.length > 4e6) stdout = stdout.slice(-2e6);
      if (stderr.length > 4e6) stderr = stderr.slice(-2e6);
      if (logFd !== null) fs.writeSync(logFd, s);
      if (onLine) {
        partial += s;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
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

/**
 * Starts a long-running process detached from us, stdout+stderr appended to logFile.
 * @param {string} comp @param {string} cmd @param {string[]} args @param {DetachedOptions} opts @returns {Started}
 */
export function startDetached(comp, cmd, args, { logFile, env, cwd, uid, gid }) {
  rotateLog(logFile);
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n===== ${new Date().toISOString()} infra.mjs starts ${comp}: ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env, cwd, uid, gid });
  fs.closeSync(fd);
  /** @type {Started} */
  const info = { pid: child.pid, exitCode: null, spawnError: null };
  child.on('error', (e) => {
    info.spawnError = e;
  });
  child.on('exit', (code, signal) => {
    info.exitCode = code ?? signal;
  });
  child.unref();
  if (!child.pid) throw new InfraError(`could not start ${cmd}: ${info.spawnError?.message || 'spawn failed'}`);
  return info;
}

/**
 * Sends `signal`, waits for exit; escalates to SIGKILL after timeoutMs.
 * @param {number} pid
 * @param {{ signal?: NodeJS.Signals, timeoutMs?: number, escalate?: { signal: NodeJS.Signals, afterMs: number }[] }} [opts]
 */
export async function stopPid(pid, { signal = 'SIGTERM', timeoutMs = 30000, escalate = [] } = {}) {
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

/**
 * Polls `probe` until it answers true; fails after timeoutMs, or as soon as the process exits.
 * @param {string} comp @param {string} desc what is awaited, for the message
 * @param {Started | null} info @param {string} logFile @param {number} timeoutMs
 * @param {() => Promise<true | string>} probe true, or why not yet
 */
export async function waitFor(comp, desc, info, logFile, timeoutMs, probe) {
  const t0 = now();
  let lastErr = '';
  for (;;) {
    try {
      const r = await probe();
      if (r === true) return;
      if (typeof r === 'string') lastErr = r;
    } catch (e) {
      lastErr = /** @type {Error} */ (e).message;
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
