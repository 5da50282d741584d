import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import {
  BrowserUnavailableError,
  bundledBrowser,
  bundledBrowserPath,
  chooseBrowser,
  probeBrowser,
  resolveBrowserPath,
  type BundledBrowser,
} from './browser-path';

describe('browser-path', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'papka-browser-path-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  /** An executable script standing in for a browser, brotli-compressed like the package's. */
  function fakeArchive(script: string, version = '999.0.0'): BundledBrowser {
    const archive = path.join(tmp, `chromium-${version}.br`);
    writeFileSync(archive, brotliCompressSync(Buffer.from(script)));
    return { version, archive };
  }
  const VERSION_SCRIPT = '#!/bin/sh\necho "Chromium 999.0.1.0"\n';

  describe(bundledBrowser.name, () => {
    it('finds the compressed shell and the version of the installed npm package', () => {
      const b = bundledBrowser();
      expect(b.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(b.archive).toMatch(/@sparticuz[/\\]chromium[/\\]bin[/\\]chromium\.br$/);
      expect(statSync(b.archive).size).toBeGreaterThan(10_000_000);
    });

    it('names `npm ci` as the fix when the package is not installed', () => {
      const notThere = () => {
        throw Object.assign(new Error("Cannot find module '@sparticuz/chromium'"), { code: 'MODULE_NOT_FOUND' });
      };
      expect(() => bundledBrowser(notThere)).toThrow(expect.objectContaining({ name: 'BrowserUnavailableError', fix: 'npm ci' }));
    });
  });

  describe(bundledBrowserPath.name, () => {
    it('unpacks into a per-version directory of the temp dir, executable, once', () => {
      const bundled = fakeArchive(VERSION_SCRIPT);
      const exe = bundledBrowserPath({ tmpDir: tmp, bundled });
      expect(path.dirname(path.dirname(exe))).toBe(tmp);
      expect(path.basename(path.dirname(exe))).toMatch(/^papka-chromium-999\.0\.0-/);
      expect(readFileSync(exe, 'utf8')).toBe(VERSION_SCRIPT);
      expect(statSync(exe).mode & 0o111).not.toBe(0);
      expect(statSync(path.dirname(exe)).mode & 0o077).toBe(0);
      // No temporary file is left beside it.
      expect(readdirSync(path.dirname(exe))).toEqual(['chromium']);

      // The second call finds it: the archive is not read again.
      rmSync(bundled.archive);
      expect(bundledBrowserPath({ tmpDir: tmp, bundled })).toBe(exe);
    });

    it('unpacks a new package version beside the old one instead of reusing it', () => {
      const old = bundledBrowserPath({ tmpDir: tmp, bundled: fakeArchive(VERSION_SCRIPT, '152.0.0') });
      const next = bundledBrowserPath({ tmpDir: tmp, bundled: fakeArchive('#!/bin/sh\necho new\n', '153.0.0') });
      expect(next).not.toBe(old);
      expect(readFileSync(next, 'utf8')).toContain('new');
    });

    it('does not run a binary from a directory of that name that others can write to', () => {
      const bundled = fakeArchive(VERSION_SCRIPT);
      const planted = path.join(tmp, `papka-chromium-999.0.0-${process.getuid?.() ?? 'user'}`);
      mkdirSync(planted);
      chmodSync(planted, 0o777);
      writeFileSync(path.join(planted, 'chromium'), '#!/bin/sh\necho planted\n', { mode: 0o755 });
      const exe = bundledBrowserPath({ tmpDir: tmp, bundled });
      expect(path.dirname(exe)).not.toBe(planted);
      expect(readFileSync(exe, 'utf8')).toBe(VERSION_SCRIPT);
    });

    it('fails with the fix, and leaves nothing behind, when the archive is corrupt', () => {
      const archive = path.join(tmp, 'broken.br');
      writeFileSync(archive, 'not brotli at all');
      let err: unknown;
      try {
        bundledBrowserPath({ tmpDir: tmp, bundled: { version: '1.0.0', archive } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BrowserUnavailableError);
      expect((err as BrowserUnavailableError).fix).toBe('npm ci');
      const dir = readdirSync(tmp).find((f) => f.startsWith('papka-chromium-1.0.0-'))!;
      expect(readdirSync(path.join(tmp, dir))).toEqual([]);
    });
  });

  describe(resolveBrowserPath.name, () => {
    it('takes CHROMIUM_PATH as given, without unpacking anything', () => {
      expect(resolveBrowserPath({ chromiumPath: '/usr/bin/chromium', tmpDir: tmp })).toEqual({ path: '/usr/bin/chromium', source: 'CHROMIUM_PATH' });
      expect(readdirSync(tmp)).toEqual([]);
    });

    it('treats an empty CHROMIUM_PATH as unset: the bundled shell', () => {
      const bundled = fakeArchive(VERSION_SCRIPT);
      const r = resolveBrowserPath({ chromiumPath: '', tmpDir: tmp, bundled });
      expect(r.source).toBe('bundled');
      expect(readFileSync(r.path, 'utf8')).toBe(VERSION_SCRIPT);
    });
  });

  describe(probeBrowser.name, () => {
    const script = (body: string) => {
      const f = path.join(tmp, `probe-${Math.random().toString(36).slice(2)}`);
      writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return f;
    };

    it('answers the version of a binary that starts', () => {
      expect(probeBrowser(script('echo "Chromium 153.0.8010.0"'))).toEqual({ ok: true, version: 'Chromium 153.0.8010.0' });
    });

    it('names the Debian packages of missing shared libraries as the fix', () => {
      const p = probeBrowser(
        script('echo "chromium: error while loading shared libraries: libnss3.so: cannot open shared object file: No such file or directory" >&2; exit 127'),
      );
      expect(p).toEqual({ ok: false, reason: expect.stringContaining('missing libnss3.so'), fix: expect.stringMatching(/apt-get install -y libnss3 libnspr4$/) });
    });

    it('reports a path that is not there', () => {
      expect(probeBrowser(path.join(tmp, 'nothing'))).toEqual({ ok: false, reason: expect.stringContaining('ENOENT'), fix: expect.stringContaining('apt-get install') });
    });
  });

  describe(chooseBrowser.name, () => {
    const exe = (name: string, body: string) => {
      const f = path.join(tmp, name);
      writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return f;
    };
    const noLibs = 'echo "x: error while loading shared libraries: libnspr4.so: cannot open shared object file" >&2; exit 127';

    it('prefers the bundled shell to a system Chromium', () => {
      const system = exe('system-chromium', 'echo "Chromium 156.0.1.0"');
      const chosen = chooseBrowser({ tmpDir: tmp, bundled: fakeArchive(VERSION_SCRIPT), fallbacks: [system] });
      expect(chosen).toMatchObject({ source: 'bundled', version: 'Chromium 999.0.1.0' });
    });

    it('falls back to a system Chromium when the bundled shell cannot start', () => {
      const system = exe('system-chromium', 'echo "Chromium 156.0.1.0"');
      const chosen = chooseBrowser({ tmpDir: tmp, bundled: fakeArchive(`#!/bin/sh\n${noLibs}\n`), fallbacks: [path.join(tmp, 'absent'), system] });
      expect(chosen).toEqual({ path: system, source: 'system', version: 'Chromium 156.0.1.0' });
    });

    it('throws the command that makes the bundled shell start when none can run', () => {
      expect(() => chooseBrowser({ tmpDir: tmp, bundled: fakeArchive(`#!/bin/sh\n${noLibs}\n`), fallbacks: [path.join(tmp, 'absent')] })).toThrow(
        expect.objectContaining({ name: 'BrowserUnavailableError', fix: expect.stringMatching(/apt-get install -y libnspr4 libnss3$/) }),
      );
    });

    it('checks an explicit CHROMIUM_PATH and never replaces it', () => {
      const broken = exe('broken', 'exit 3');
      expect(() => chooseBrowser({ chromiumPath: broken, tmpDir: tmp, bundled: fakeArchive(VERSION_SCRIPT) })).toThrow(/CHROMIUM_PATH=.*broken does not start/);
      expect(existsSync(path.join(tmp, 'chromium'))).toBe(false);
    });
  });

  it('the bundled chrome-headless-shell unpacks and starts on this machine', () => {
    const exe = bundledBrowserPath();
    expect(probeBrowser(exe)).toEqual({ ok: true, version: expect.stringMatching(/^Chromium \d{3}\./) });
  }, 120_000);
});
