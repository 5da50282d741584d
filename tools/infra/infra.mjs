#!/usr/bin/env node
// @ts-check
// tools/infra/infra.mjs: start the real test infrastructure natively, without Docker.
//
//   node tools/infra/infra.mjs <up|down|status|env|reset> [postgres|kafka|minio|chromium ...]
//
// PostgreSQL (Debian's server), Apache Kafka (KRaft, jars from Maven Central run with the
// machine's Java), MinIO (built once with `go install`) and Chromium (Debian package).
// Plain Node ESM with built-ins only: it must work before `npm install`.
// See tools/infra/README.md.
//
// Layout: commands.mjs (up, down, status, env, reset), components/ (one file per component),
// lib/ (shared utilities: config, processes, files, network, apt, lock).

import path from 'node:path';
import { cmdDown, cmdReset, cmdStatus, cmdUp, envText } from './commands.mjs';
import { COMPONENTS } from './components/index.mjs';
import { kafka } from './components/kafka.mjs';
import { RUN_DIR } from './lib/config.mjs';
import { withLock } from './lib/lock.mjs';
import { fatal } from './lib/report.mjs';

function usage() {
  return `usage: node tools/infra/infra.mjs <up|down|status|env|reset> [${COMPONENTS.join('|')} ...]
  up      start (building/installing once if needed) and wait until each answers; writes ${path.join(RUN_DIR, 'env')}
  down    stop (data is kept)
  status  one line per component (running/stopped, pid, port); always exits 0
  env     print the env file (KEY=VALUE)
  reset   stop and delete data directories (caches are kept)
  kafka-tool <topics|consumer-groups|console-consumer|console-producer|get-offsets|main.Class> [args]
          run a Kafka CLI tool against the local broker (e.g. \`kafka-tool topics --list\`)
No components = all four. See tools/infra/README.md.
`;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd ? 0 : 2;
  }
  if (cmd === 'kafka-tool') return kafka.tool(rest[0], rest.slice(1));
  for (const c of rest) if (!COMPONENTS.includes(c)) fatal(`unknown component "${c}"\n${usage()}`);
  const comps = rest.length ? COMPONENTS.filter((c) => rest.includes(c)) : COMPONENTS;
  switch (cmd) {
    case 'up':
      return withLock(() => cmdUp(comps));
    case 'down':
      return withLock(() => cmdDown(comps));
    case 'reset':
      return withLock(() => cmdReset(comps));
    case 'status':
      return cmdStatus(comps);
    case 'env':
      process.stdout.write(envText());
      return 0;
    default:
      fatal(`unknown command "${cmd}"\n${usage()}`);
  }
}

main().then(
  (code) => process.exit(code ?? 0),
  (e) => {
    process.stderr.write(`infra: ${e.stack || e}\n`);
    process.exit(1);
  },
);
