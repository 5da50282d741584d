// @ts-check
// up, down, status, env and reset over the components.

import path from 'node:path';
import { COMPONENTS, envValues, REGISTRY } from './components/index.mjs';
import { HOST, RUN_DIR } from './lib/config.mjs';
import { mkdirp, rmrf, writeAtomic } from './lib/files.mjs';
import { InfraError, markLog, say, tail } from './lib/report.mjs';
import { now, secs } from './lib/time.mjs';

/** @param {Record<string, string>} [vals] */
export function envText(vals = envValues()) {
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

/** @param {string} comp @param {any} err an InfraError, or anything thrown */
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

/** @param {string[]} comps */
export async function cmdUp(comps) {
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

/** @param {string[]} comps */
export async function cmdDown(comps) {
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

/** @param {string[]} comps */
export async function cmdStatus(comps) {
  const rows = await Promise.all(comps.map(async (name) => /** @type {const} */ ([name, await REGISTRY[name].status()])));
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

/** @param {string[]} comps */
export async function cmdReset(comps) {
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
