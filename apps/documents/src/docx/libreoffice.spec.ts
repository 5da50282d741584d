import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  configureLibreOffice,
  convertDocxToPdf,
  disposeLibreOfficeProfiles,
  findSoffice,
  LibreOfficeConversionError,
  LibreOfficeNotInstalledError,
  LibreOfficeTimeoutError,
} from './libreoffice';

/** Running, as opposed to gone or a zombie waiting for a parent that may never reap it. */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('convertDocxToPdf with a stand-in soffice', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'papka-lo-spec-'));
  });

  afterEach(async () => {
    configureLibreOffice({ sofficePath: undefined });
    await disposeLibreOfficeProfiles();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A shell script standing in for soffice; it records its arguments. */
  function fake(body: string): string {
    const path = join(dir, 'soffice');
    writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\n${body}\n`);
    chmodSync(path, 0o755);
    configureLibreOffice({ sofficePath: path });
    return path;
  }

  /** The value following a flag in the recorded arguments. */
  function arg(flag: string): string {
    const args = readFileSync(join(dir, 'args'), 'utf8').split('\n');
    return args[args.indexOf(flag) + 1];
  }

  it('runs soffice headless on its own profile and returns the PDF, removing temp files', async () => {
    fake('prev=""\nfor a; do [ "$prev" = "--outdir" ] && dir="$a"; prev="$a"; done\nprintf "%%PDF-1.7 fake" > "$dir/document.pdf"');
    const pdf = await convertDocxToPdf(Buffer.from('docx'));
    expect(pdf.toString()).toBe('%PDF-1.7 fake');
    const args = readFileSync(join(dir, 'args'), 'utf8').split('\n');
    expect(args).toEqual(expect.arrayContaining(['--headless', '--norestore', '--nolockcheck', '--convert-to', 'pdf']));
    const profile = args.find((a) => a.startsWith('-env:UserInstallation='));
    expect(profile).toMatch(new RegExp(`^-env:UserInstallation=file://.*/papka-lo-${process.pid}-\\d+$`));
    const profileDir = new URL((profile as string).slice('-env:UserInstallation='.length)).pathname;
    expect(readFileSync(join(profileDir, 'user', 'registrymodifications.xcu'), 'utf8')).toContain('BlockUntrustedRefererLinks');
    expect(existsSync(arg('--outdir'))).toBe(false);
  });

  it('gives a second concurrent conversion a different profile', async () => {
    fake('prev=""\nfor a; do [ "$prev" = "--outdir" ] && dir="$a"; prev="$a"; done\necho "$1" >> ' + `"${dir}/profiles"` + '\nsleep 0.3\nprintf "%%PDF-" > "$dir/document.pdf"');
    configureLibreOffice({ maxConcurrent: 2 });
    await Promise.all([convertDocxToPdf(Buffer.from('a')), convertDocxToPdf(Buffer.from('b'))]);
    const profiles = readFileSync(join(dir, 'profiles'), 'utf8').trim().split('\n');
    expect(new Set(profiles).size).toBe(2);
  });

  it('kills the whole process group on timeout and cleans up', async () => {
    fake(`sleep 30 &\necho $! > "${dir}/child"\nwait`);
    const started = Date.now();
    await expect(convertDocxToPdf(Buffer.from('x'), { timeoutMs: 300 })).rejects.toBeInstanceOf(LibreOfficeTimeoutError);
    expect(Date.now() - started).toBeLessThan(5000);
    const child = Number(readFileSync(join(dir, 'child'), 'utf8'));
    expect(running(child)).toBe(false);
    expect(existsSync(arg('--outdir'))).toBe(false);
  });

  it('reports a conversion that produced no PDF, with what soffice printed', async () => {
    fake('echo "Error: source file could not be loaded" >&2\nexit 0');
    const err = await convertDocxToPdf(Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibreOfficeConversionError);
    expect((err as Error).message).toMatch(/source file could not be loaded/);
  });

  it('says when LibreOffice is not installed', async () => {
    configureLibreOffice({ sofficePath: join(dir, 'missing', 'soffice') });
    await expect(convertDocxToPdf(Buffer.from('x'))).rejects.toBeInstanceOf(LibreOfficeNotInstalledError);
  });
});

describe('findSoffice', () => {
  it('returns an executable path or null', () => {
    const found = findSoffice();
    expect(found === null || existsSync(found)).toBe(true);
  });
});

// Conversions with the real LibreOffice: apps/documents/test/libreoffice.int-spec.ts.
