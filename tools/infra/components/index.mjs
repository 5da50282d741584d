// @ts-check
// The four components, in the order `up` lists them, and what the tests get from them.

import { chromium } from './chromium.mjs';
import { kafka } from './kafka.mjs';
import { minio } from './minio.mjs';
import { postgres } from './postgres.mjs';

/**
 * @typedef {object} Component
 * @property {string} name
 * @property {number | null} port null: not a server (Chromium)
 * @property {string} logFile
 * @property {string[]} dataDirs what `reset` deletes
 * @property {Record<string, string>} env its part of the env file
 * @property {() => Promise<ComponentStatus>} status
 * @property {() => Promise<UpResult>} up starts it unless it runs, then waits until it answers
 * @property {() => Promise<boolean>} down true when it stopped a running process
 */
/** @typedef {{ running: boolean, pid?: number | null, port?: number, answers?: boolean, path?: string | null }} ComponentStatus */
/** @typedef {{ pid?: number, already?: boolean, path?: string, cached?: boolean }} UpResult */

export const COMPONENTS = ['postgres', 'kafka', 'minio', 'chromium'];
/** @type {Record<string, Component>} */
export const REGISTRY = { postgres, kafka, minio, chromium };

/** The env file's variables (see tools/infra/README.md, "What the tests get"). */
/** @returns {Record<string, string>} */
export function envValues() {
  return { ...postgres.env, ...kafka.env, ...minio.env, ...chromium.env };
}
