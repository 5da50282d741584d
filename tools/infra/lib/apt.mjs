// @ts-check
// What a component needs from Debian, installed with apt-get when we are root.

import { IS_ROOT } from './config.mjs';
import { run, which } from './processes.mjs';
import { InfraError, say } from './report.mjs';

let aptChain = Promise.resolve();
let aptUpdated = false;

/**
 * Installs `pkgs`, one call at a time within this process (apt itself locks across processes);
 * `apt-get update` runs before the first.
 * @param {string} comp @param {string[]} pkgs @param {string} logFile @returns {Promise<void>}
 */
export function aptInstall(comp, pkgs, logFile) {
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
