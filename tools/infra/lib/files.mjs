// @ts-check
// File helpers that never leave half-written or stale files behind.

import fs from 'node:fs';

const LOG_ROTATE_BYTES = 20 * 1024 * 1024;

/** @param {string} dir @param {number} [mode] */
export function mkdirp(dir, mode) {
  fs.mkdirSync(dir, { recursive: true, mode });
  return dir;
}

/** The file's text, or null when it cannot be read. @param {string} file @returns {string | null} */
export function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** @param {string} file @param {string} content @param {number} [mode] */
export function writeAtomic(file, content, mode) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

/** @param {string} p */
export function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

/** @param {string} file */
export function rotateLog(file) {
  try {
    if (fs.statSync(file).size > LOG_ROTATE_BYTES) fs.renameSync(file, `${file}.1`);
  } catch {}
}
