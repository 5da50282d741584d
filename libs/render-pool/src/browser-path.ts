import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Which browser renders. The default is chrome-headless-shell as shipped inside the npm package
 * `@sparticuz/chromium` (brotli-compressed in its `bin/`), so `npm ci` alone brings a renderer;
 * `CHROMIUM_PATH` overrides it (e.g. Debian's `/usr/bin/chromium`).
 *
 * Only the package's compressed binary is used, not its JavaScript: that is ESM-only, written for
 * serverless platforms (Node >= 22.17 in its engines), and unpacks to a fixed `$TMPDIR/chromium`
 * whatever its version, non-atomically. Here the binary is unpacked once per package version into
 * `$TMPDIR/papka-chromium-<version>-<uid>/chromium`, through a temporary file renamed into place,
 * so an upgrade, a crash mid-unpack or two processes unpacking at once never leave a wrong binary.
 */
export const BUNDLED_BROWSER_PACKAGE = '@sparticuz/chromium';

/** The browser cannot be had; `fix` is the one command that would fix it. */
export class BrowserUnavailableError extends Error {
  override readonly name = 'BrowserUnavailableError';
  constructor(
    message: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface BundledBrowser {
  /** The package's version, e.g. `153.0.0`: its major is the Chromium major. */
  version: string;
  /** The brotli-compressed binary inside the package. */
  archive: string;
}

export type BrowserSource = 'CHROMIUM_PATH' | 'bundled' | 'system';

export interface BrowserChoice {
  path: string;
  source: BrowserSource;
}

/** Where the package keeps the compressed binary. Throws when it is not installed. */
export function bundledBrowser(resolve: (id: string) => string = require.resolve): BundledBrowser {
  let entry: string;
  try {
    entry = resolve(BUNDLED_BROWSER_PACKAGE);
  } catch (err) {
    throw new BrowserUnavailableError(`the npm package ${BUNDLED_BROWSER_PACKAGE} is not installed`, 'npm ci', { cause: err });
  }
  // Its entry is build/index.js; package.json is not in its "exports", so it is read from disk.
  const dir = path.resolve(path.dirname(entry), '..');
  const archive = path.join(dir, 'bin', 'chromium.br');
  let version: string;
  try {
    version = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch (err) {
    throw new BrowserUnavailableError(`cannot read the version of ${BUNDLED_BROWSER_PACKAGE} in ${dir}`, 'npm ci', { cause: err });
  }
  if (!existsSync(archive)) {
    throw new BrowserUnavailableError(`${archive} is missing: ${BUNDLED_BROWSER_PACKAGE} ${version} ships no bin/chromium.br`, 'npm ci');
  }
  return { version, archive };
}

/** Streams, so the 200 MB binary never sits in memory; the rename makes it appear whole or not at all. */
const UNPACK = `
const fs = require('node:fs'), zlib = require('node:zlib'), { pipeline } = require('node:stream/promises');
const [archive, target] = process.argv.slice(1);
const part = target + '.' + process.pid + '.part';
pipeline(fs.createReadStream(archive), zlib.createBrotliDecompress(), fs.createWriteStream(part, { mode: 0o755 }))
  .then(() => fs.renameSync(part, target))
  .catch((err) => { fs.rmSync(part, { force: true }); process.stderr.write(err.message + '\\n'); process.exit(1); });
`;

/** A directory only this user can have written to (no symlink, ours, not group/world-writable). */
function ownPrivateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * The path of the bundled chrome-headless-shell, unpacked into `tmpDir` (default `os.tmpdir()`,
 * i.e. `$TMPDIR` or /tmp) on first use, about 2 s. Synchronous (the work runs in a child
 * process) so that it fits start-up code; later calls find the binary and return at once.
 */
export function bundledBrowserPath(o: { tmpDir?: string; bundled?: BundledBrowser } = {}): string {
  const bundled = o.bundled ?? bundledBrowser();
  const tmpDir = o.tmpDir ?? os.tmpdir();
  let dir = path.join(tmpDir, `papka-chromium-${bundled.version}-${process.getuid?.() ?? 'user'}`);
  const target = () => path.join(dir, 'chromium');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new BrowserUnavailableError(`cannot create ${dir} to unpack the browser into: ${(err as Error).message}`, `mkdir -p ${tmpDir}`, { cause: err });
  }
  // /tmp is shared: a directory of that name someone else made could hold their binary.
  if (!ownPrivateDir(dir)) dir = mkdtempSync(path.join(tmpDir, `papka-chromium-${bundled.version}-`));
  if (existsSync(target())) return target();
  const r = spawnSync(process.execPath, ['-e', UNPACK, bundled.archive, target()], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.status !== 0 || !existsSync(target())) {
    const why = (r.error?.message ?? r.stderr ?? '').trim() || `exit ${r.status ?? r.signal}`;
    throw new BrowserUnavailableError(`cannot unpack ${bundled.archive} into ${dir}: ${why}`, 'npm ci');
  }
  return target();
}

/** `CHROMIUM_PATH` when set (empty counts as unset), otherwise the bundled shell, unpacked if needed. */
export function resolveBrowserPath(o: { chromiumPath?: string; tmpDir?: string; bundled?: BundledBrowser } = {}): BrowserChoice {
  if (o.chromiumPath) return { path: o.chromiumPath, source: 'CHROMIUM_PATH' };
  return { path: bundledBrowserPath({ tmpDir: o.tmpDir, bundled: o.bundled }), source: 'bundled' };
}

/** Debian package of each shared library chrome-headless-shell and Chromium link against. */
const LIBRARY_PACKAGES: Record<string, string> = {
  'libnss3.so': 'libnss3',
  'libnssutil3.so': 'libnss3',
  'libsmime3.so': 'libnss3',
  'libnspr4.so': 'libnspr4',
  'libplc4.so': 'libnspr4',
  'libplds4.so': 'libnspr4',
  'libexpat.so.1': 'libexpat1',
  'libgbm.so.1': 'libgbm1',
  'libasound.so.2': 'libasound2',
  'libatk-1.0.so.0': 'libatk1.0-0',
  'libatk-bridge-2.0.so.0': 'libatk-bridge2.0-0',
  'libcups.so.2': 'libcups2',
  'libdrm.so.2': 'libdrm2',
  'libxkbcommon.so.0': 'libxkbcommon0',
  'libdbus-1.so.3': 'libdbus-1-3',
};

export type BrowserProbe = { ok: true; version: string } | { ok: false; reason: string; fix: string };

const apt = (pkgs: string[]) => `${process.getuid?.() === 0 ? '' : 'sudo '}apt-get install -y ${pkgs.join(' ')}`;

/**
 * Whether the binary starts: `--version` loads every shared library it links against (the usual
 * failure on a bare machine) without opening a browser. A missing library names its package.
 */
export function probeBrowser(executable: string): BrowserProbe {
  const r = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 15_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status === 0 && /\d+\.\d+/.test(r.stdout)) return { ok: true, version: r.stdout.trim() };
  if (r.error) return { ok: false, reason: `${executable}: ${r.error.message}`, fix: apt(['chromium']) };
  const missing = [...out.matchAll(/error while loading shared libraries: (\S+?):/g)].map((m) => m[1]!);
  if (missing.length) {
    const pkgs = [...new Set(missing.map((lib) => LIBRARY_PACKAGES[lib] ?? lib.replace(/\.so.*$/, '')))];
    // The shell needs both; name them together rather than one per failed start.
    if (pkgs.includes('libnss3') || pkgs.includes('libnspr4')) pkgs.push(...['libnss3', 'libnspr4'].filter((p) => !pkgs.includes(p)));
    return { ok: false, reason: `${executable} cannot start: missing ${missing.join(', ')}`, fix: apt(pkgs) };
  }
  return { ok: false, reason: `${executable} --version: exit ${r.status ?? r.signal}: ${out.split('\n').slice(-2).join(' | ')}`, fix: apt(['chromium']) };
}

export interface ChosenBrowser extends BrowserChoice {
  version: string;
}

/**
 * For the embedded launcher: the browser that will render, checked to start. `CHROMIUM_PATH`
 * when set; otherwise the bundled shell; should that not start, the first of `fallbacks`
 * (e.g. Debian's /usr/bin/chromium) that does. Throws BrowserUnavailableError with the command
 * that fixes the default when none can run.
 */
export function chooseBrowser(
  o: { chromiumPath?: string; tmpDir?: string; bundled?: BundledBrowser; fallbacks?: readonly string[] } = {},
): ChosenBrowser {
  if (o.chromiumPath) {
    const probe = probeBrowser(o.chromiumPath);
    if (probe.ok) return { path: o.chromiumPath, source: 'CHROMIUM_PATH', version: probe.version };
    throw new BrowserUnavailableError(`CHROMIUM_PATH=${o.chromiumPath} does not start (${probe.reason})`, probe.fix);
  }
  let failure: BrowserUnavailableError;
  try {
    const bundled = bundledBrowserPath({ tmpDir: o.tmpDir, bundled: o.bundled });
    const probe = probeBrowser(bundled);
    if (probe.ok) return { path: bundled, source: 'bundled', version: probe.version };
    failure = new BrowserUnavailableError(probe.reason, probe.fix);
  } catch (err) {
    if (!(err instanceof BrowserUnavailableError)) throw err;
    failure = err;
  }
  for (const candidate of o.fallbacks ?? []) {
    if (!existsSync(candidate)) continue;
    const probe = probeBrowser(candidate);
    if (probe.ok) return { path: candidate, source: 'system', version: probe.version };
  }
  throw failure;
}
