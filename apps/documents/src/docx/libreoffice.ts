import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * DOCX -> PDF with a headless LibreOffice, one `soffice` process per conversion.
 *
 * LibreOffice refuses to run two instances on one user profile (the second one silently
 * hands its job to the first, or fails), so every running conversion owns a profile
 * (`<tmp>/papka-lo-<pid>-<n>`). Profiles are kept and reused by later conversions because
 * each is seeded once: network-hardening settings and the bundled Cyrillic fonts. A profile
 * that saw a failure or a timeout is thrown away rather than trusted again.
 *
 * LibreOffice is optional: callers catch LibreOfficeNotInstalledError and keep the filled
 * DOCX as the document's file.
 */

export class LibreOfficeNotInstalledError extends Error {
  constructor(message = 'LibreOffice (soffice) is not installed') {
    super(message);
    this.name = 'LibreOfficeNotInstalledError';
  }
}

export class LibreOfficeConversionError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(message);
    this.name = 'LibreOfficeConversionError';
  }
}

export class LibreOfficeTimeoutError extends LibreOfficeConversionError {
  constructor(timeoutMs: number, output: string) {
    super(`LibreOffice did not finish within ${timeoutMs} ms`, null, output);
    this.name = 'LibreOfficeTimeoutError';
  }
}

export interface LibreOfficeConfig {
  /** Explicit binary; by default findSoffice(). */
  sofficePath?: string;
  /** Conversions running at once; each soffice takes ~150 MB and a core for seconds. */
  maxConcurrent: number;
  /** Font files (ttf/otf) linked into every profile so output does not depend on the host. */
  fontDirs: string[];
  defaultTimeoutMs: number;
}

const BUNDLED_FONTS = resolve(__dirname, '../../assets/fonts');

const config: LibreOfficeConfig = {
  maxConcurrent: Math.max(1, Math.min(availableParallelism(), 4)),
  fontDirs: [BUNDLED_FONTS],
  defaultTimeoutMs: 60_000,
};

export function configureLibreOffice(patch: Partial<LibreOfficeConfig>): void {
  Object.assign(config, patch);
  if ('sofficePath' in patch && patch.sofficePath === undefined) delete config.sofficePath;
}

const KNOWN_LOCATIONS = ['/usr/bin/soffice', '/usr/bin/libreoffice', '/usr/lib/libreoffice/program/soffice'];

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The soffice binary: $SOFFICE_PATH, then `soffice`/`libreoffice` on PATH, then the Debian locations. */
export function findSoffice(): string | null {
  const explicit = process.env['SOFFICE_PATH'];
  if (explicit && isExecutableFile(explicit)) return explicit;
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const name of ['soffice', 'libreoffice']) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return KNOWN_LOCATIONS.find(isExecutableFile) ?? null;
}

// ---------------------------------------------------------------------------------------
// Profiles

/**
 * Defence in depth behind stripping external relationships from the DOCX: block linked
 * images from untrusted documents, point every proxy at a closed local port (so any URL
 * LibreOffice still tries to open fails at once instead of reaching the network), and never
 * run macros. Verified against LibreOffice 7.4: a linked image URL is fetched with the
 * default profile and not with this one.
 */
const REGISTRY =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' +
  [
    ['/org.openoffice.Office.Common/Security/Scripting', 'BlockUntrustedRefererLinks', 'true'],
    ['/org.openoffice.Office.Common/Security/Scripting', 'MacroSecurityLevel', '3'],
    ['/org.openoffice.Office.Common/Security/Scripting', 'DisableMacrosExecution', 'true'],
    ['/org.openoffice.Inet/Settings', 'ooInetProxyType', '1'],
    ['/org.openoffice.Inet/Settings', 'ooInetNoProxy', ''],
    ...['HTTP', 'HTTPS', 'FTP'].flatMap((p) => [
      ['/org.openoffice.Inet/Settings', `ooInet${p}ProxyName`, '127.0.0.1'],
      ['/org.openoffice.Inet/Settings', `ooInet${p}ProxyPort`, '9'],
    ]),
  ]
    .map(([path, name, value]) => `<item oor:path="${path}"><prop oor:name="${name}" oor:op="fuse"><value>${value}</value></prop></item>`)
    .join('\n') +
  '\n</oor:items>\n';

const freeProfiles: string[] = [];
const liveProfiles = new Set<string>();
let profileCounter = 0;
let exitHookInstalled = false;

async function createProfile(): Promise<string> {
  const dir = join(tmpdir(), `papka-lo-${process.pid}-${++profileCounter}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'user', 'fonts'), { recursive: true });
  await writeFile(join(dir, 'user', 'registrymodifications.xcu'), REGISTRY);
  for (const fontDir of config.fontDirs) {
    if (!existsSync(fontDir)) continue;
    for (const file of readdirSync(fontDir)) {
      if (/\.(ttf|otf|ttc)$/i.test(file)) await symlink(join(fontDir, file), join(dir, 'user', 'fonts', file)).catch(() => undefined);
    }
  }
  liveProfiles.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Synchronous on purpose: 'exit' listeners cannot wait.
    process.once('exit', () => {
      for (const p of liveProfiles) rmSync(p, { recursive: true, force: true });
    });
  }
  return dir;
}

async function discardProfile(dir: string): Promise<void> {
  liveProfiles.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

/** Removes idle profiles (for tests and graceful shutdown); busy ones go when their job ends. */
export async function disposeLibreOfficeProfiles(): Promise<void> {
  const idle = freeProfiles.splice(0);
  await Promise.all(idle.map(discardProfile));
}

// ---------------------------------------------------------------------------------------
// Concurrency

let running = 0;
const waiting: Array<() => void> = [];

async function acquireSlot(): Promise<void> {
  if (running < config.maxConcurrent) {
    running++;
    return;
  }
  await new Promise<void>((resolveSlot) => waiting.push(resolveSlot));
}

function releaseSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

// ---------------------------------------------------------------------------------------
// Conversion

const OUTPUT_CAP = 16 * 1024;

interface RunResult {
  code: number | null;
  output: string;
  timedOut: boolean;
  notFound: boolean;
}

function runSoffice(soffice: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((done) => {
    let output = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(soffice, args, {
      // Own process group: soffice is a wrapper around oosplash and soffice.bin, and a
      // timeout must take all of them down, not just the wrapper.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const collect = (chunk: Buffer) => {
      if (output.length < OUTPUT_CAP) output += chunk.toString('utf8').slice(0, OUTPUT_CAP - output.length);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const finish = (result: Omit<RunResult, 'output' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done({ ...result, output: output.trim(), timedOut });
    };
    child.once('error', (err: NodeJS.ErrnoException) => finish({ code: null, notFound: err.code === 'ENOENT' || err.code === 'EACCES' }));
    // Anything the wrapper left behind is killed with the group; 'close' then follows once
    // the stragglers have released stdout/stderr.
    child.once('exit', killGroup);
    child.once('close', (code) => finish({ code, notFound: false }));
  });
}

export interface ConvertOptions {
  timeoutMs?: number;
}

export async function convertDocxToPdf(docx: Buffer, opts: ConvertOptions = {}): Promise<Buffer> {
  const soffice = config.sofficePath ?? findSoffice();
  if (!soffice) throw new LibreOfficeNotInstalledError();
  const timeoutMs = opts.timeoutMs ?? config.defaultTimeoutMs;

  await acquireSlot();
  let profile: string | undefined;
  let job: string | undefined;
  let healthy = false;
  try {
    profile = freeProfiles.pop() ?? (await createProfile());
    job = await mkdtemp(join(tmpdir(), 'papka-lo-job-'));
    const input = join(job, 'document.docx');
    await writeFile(input, docx);
    const result = await runSoffice(
      soffice,
      [
        `-env:UserInstallation=${pathToFileURL(profile).href}`,
        '--headless',
        '--invisible',
        '--norestore',
        '--nolockcheck',
        '--nodefault',
        '--nologo',
        '--convert-to',
        'pdf',
        '--outdir',
        job,
        input,
      ],
      timeoutMs,
    );
    if (result.notFound) throw new LibreOfficeNotInstalledError(`LibreOffice could not be started: ${soffice}`);
    if (result.timedOut) throw new LibreOfficeTimeoutError(timeoutMs, result.output);
    // soffice exits 0 even when the filter failed, so the output file is the real verdict.
    const pdf = await readFile(join(job, 'document.pdf')).catch(() => null);
    if (!pdf || pdf.subarray(0, 5).toString('latin1') !== '%PDF-') {
      throw new LibreOfficeConversionError(
        `LibreOffice produced no PDF (exit code ${result.code ?? 'none'})${result.output ? `: ${result.output.slice(-500)}` : ''}`,
        result.code,
        result.output,
      );
    }
    healthy = result.code === 0;
    return pdf;
  } finally {
    if (job) await rm(job, { recursive: true, force: true });
    if (profile) {
      if (healthy) freeProfiles.push(profile);
      else await discardProfile(profile);
    }
    releaseSlot();
  }
}
