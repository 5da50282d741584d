// @ts-check
// Where things live and listen: paths, ports and credentials, read once from the environment.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fatal } from './report.mjs';

/** tools/infra (the Kafka POM and log4j settings are under it). */
export const INFRA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(INFRA_DIR, '..', '..');
export const CACHE_DIR = path.resolve(process.env.PAPKA_CACHE_DIR || path.join(REPO, '.cache'));
export const ART_DIR = path.join(CACHE_DIR, 'infra'); // downloaded / built artifacts
export const RUN_DIR = path.resolve(process.env.PAPKA_INFRA_DIR || path.join(REPO, '.cache', 'infra-run'));

/** @param {string} name @param {number} def */
function envPort(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) fatal(`${name}=${v} is not a valid port`);
  return n;
}

export const HOST = '127.0.0.1';
export const PG_PORT = envPort('PAPKA_PG_PORT', 54329);
export const KAFKA_PORT = envPort('PAPKA_KAFKA_PORT', 59092);
export const KAFKA_CONTROLLER_PORT = envPort('PAPKA_KAFKA_CONTROLLER_PORT', 59093);
export const MINIO_PORT = envPort('PAPKA_MINIO_PORT', 59000);
export const MINIO_CONSOLE_PORT = envPort('PAPKA_MINIO_CONSOLE_PORT', 59001);

export const PG_USER = 'papka';
export const PG_PASSWORD = 'papka';
export const S3_ACCESS_KEY = 'papka';
export const S3_SECRET_KEY = 'papka-secret-key';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
