// @ts-check
// Serializes up/down/reset across concurrent invocations (e.g. parallel test workers).

import fs from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from './config.mjs';
import { mkdirp } from './files.mjs';
import { pidIsOurs, readPid } from './processes.mjs';
import { fatal } from './report.mjs';
import { now, sleep } from './time.mjs';

/**
 * @template T
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withLock(fn) {
  mkdirp(RUN_DIR);
  const lock = path.join(RUN_DIR, '.infra.lock');
  const t0 = now();
  let announced = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EEXIST') throw e;
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
