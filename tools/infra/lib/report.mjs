// @ts-check
// What the user sees: progress lines, failures with the tail of the right log.

import fs from 'node:fs';
import { readText } from './files.mjs';

export class InfraError extends Error {
  /** @param {string} message @param {{log?: string, hint?: string}} [more] */
  constructor(message, more = {}) {
    super(message);
    this.log = more.log;
    this.hint = more.hint;
  }
}

/** A usage or configuration error: exit 2 before anything starts. @param {string} msg @returns {never} */
export function fatal(msg) {
  process.stderr.write(`infra: ${msg}\n`);
  process.exit(2);
}

/** @param {string} comp @param {string} msg */
export function say(comp, msg) {
  process.stdout.write(`[${comp}] ${msg}\n`);
}

/** Log sizes when this invocation began, so failures show only what this attempt wrote. */
/** @type {Map<string, number>} */
const logStartSizes = new Map();

/** @param {string} file */
export function markLog(file) {
  try {
    logStartSizes.set(file, fs.statSync(file).size);
  } catch {
    logStartSizes.set(file, 0);
  }
}

/** @param {string} file */
export function tail(file, lines = 40) {
  let text = readText(file);
  if (text === null) return `(no log at ${file})`;
  const from = logStartSizes.get(file);
  if (from !== undefined && from < text.length) {
    const fresh = Buffer.from(text).subarray(from).toString();
    if (fresh.trim()) text = fresh;
  }
  return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
}
