import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
const INFRA = path.join(REPO_ROOT, 'tools/infra/infra.mjs');

export type Component = 'postgres' | 'kafka' | 'minio' | 'chromium';

export interface InfraEnv {
  PG_URL: string;
  KAFKA_BROKERS: string;
  S3_ENDPOINT: string;
  S3_ACCESS_KEY: string;
  S3_SECRET_KEY: string;
  CHROMIUM_PATH: string;
}

/** Connection settings of the real infrastructure started by tools/infra. */
export function infraEnv(): InfraEnv {
  const dir = process.env.PAPKA_INFRA_DIR ?? path.join(REPO_ROOT, '.cache/infra-run');
  const file = path.join(dir, 'env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: start the infrastructure with "node tools/infra/infra.mjs up"`);
  }
  const env = Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
  return env as unknown as InfraEnv;
}

/**
 * Runs tools/infra (e.g. stop Kafka for an outage test, then start it again). Asynchronous
 * on purpose: blocking the event loop for seconds would stall keep-alive bookkeeping of the
 * test's HTTP clients and produce failures that are not the product's.
 */
export function infra(command: 'up' | 'down' | 'status', ...components: Component[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [INFRA, command, ...components], { timeout: 600_000 }, (err) =>
      err ? reject(new Error(`infra ${command} ${components.join(' ')} failed: ${err.message}`)) : resolve(),
    );
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  });
}
