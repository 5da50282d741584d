// @ts-check
// MinIO, built once from source with `go install` (upstream ships no binaries any more).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ART_DIR, HOST, MINIO_CONSOLE_PORT, MINIO_PORT, RUN_DIR, S3_ACCESS_KEY, S3_SECRET_KEY } from '../lib/config.mjs';
import { mkdirp, readText, rmrf } from '../lib/files.mjs';
import { ensurePortFree, httpStatus } from '../lib/net.mjs';
import { isExec, pidIsOurs, readPid, run, startDetached, stopPid, waitFor, which } from '../lib/processes.mjs';
import { InfraError, say } from '../lib/report.mjs';
import { now, secs } from '../lib/time.mjs';

/**
 * MinIO tag RELEASE.2025-09-07T16-13-09Z (commit 07c3a429bfed). MinIO tags are not semver,
 * so `go install` needs the pseudo-version (`go list -m github.com/minio/minio@<tag>`).
 * Builds with Go 1.26 (CGO_ENABLED=0).
 */
const MINIO_MODULE = 'github.com/minio/minio';
const MINIO_VERSION = 'v0.0.0-20250907161309-07c3a429bfed';
const MINIO_TAG = 'RELEASE.2025-09-07T16-13-09Z';

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

/** @type {import('./index.mjs').Component} */
export const minio = {
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
