import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The host's fontconfig file (what Chromium would read without us). */
const hostFontconfig = () => process.env.FONTCONFIG_FILE || '/etc/fonts/fonts.conf';

const FONT_FILE = /\.(ttf|otf|ttc)$/i;

/** Where Debian (and most distributions) keep system fonts: listed even when the host has no fonts.conf. */
const SYSTEM_FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts'];

/** The name a bundled font file gets in the private copy: no `*​/<name>` reject glob matches it. */
export const bundledCopyName = (file: string) => `papka-${file}`;

/**
 * A fontconfig file that gives Chromium the fonts in `fontDirs` as local fonts, ahead of the
 * host's (which stay for glyphs the bundled ones lack). Host font files named like the bundled
 * ones (`rejectNames`) are refused: fontconfig would prefer a newer version of a family, so a
 * document set in a bundled family lays out with the bundled files on any machine.
 *
 * `fontDirs` must hold the bundled files under other names than `rejectNames`
 * ({@link bundledCopyName}): Chromium's fontconfig applies a reject glob even to a file an
 * `<acceptfont>` glob names, so with the original names it refused the bundled files too, and
 * every document came out in the host's Liberation Sans *Italic* (the one face not refused), or
 * with no text at all on a host without fonts.conf. A document names the family in CSS;
 * nothing is inlined or parsed per page.
 */
export function fontconfigXml(fontDirs: readonly string[], rejectNames: readonly string[], cacheDir: string): string {
  const dirs = fontDirs.map((d) => path.resolve(d));
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
    '<fontconfig>',
    ...dirs.map((d) => `  <dir>${xml(d)}</dir>`),
    `  <include ignore_missing="yes">${xml(hostFontconfig())}</include>`,
    // A host without fontconfig's own config (a slim image) still has its fonts for fallback.
    ...SYSTEM_FONT_DIRS.map((d) => `  <dir>${xml(d)}</dir>`),
    `  <cachedir>${xml(cacheDir)}</cachedir>`,
    '  <selectfont>',
    '    <rejectfont>',
    ...rejectNames.map((f) => `      <glob>*/${xml(f)}</glob>`),
    '    </rejectfont>',
    '  </selectfont>',
    '</fontconfig>',
    '',
  ].join('\n');
}

/** Copies the font files of `dirs` into `into` under {@link bundledCopyName}, each once (same size: kept). */
function copyBundledFonts(dirs: readonly string[], into: string): string[] {
  mkdirSync(into, { recursive: true, mode: 0o700 });
  const names: string[] = [];
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => FONT_FILE.test(f))) {
      names.push(file);
      const source = path.join(dir, file);
      const target = path.join(into, bundledCopyName(file));
      if (existsSync(target) && statSync(target).size === statSync(source).size) continue;
      const part = `${target}.${process.pid}.part`;
      copyFileSync(source, part);
      renameSync(part, target);
    }
  }
  return names;
}

/** Private to this user: a directory of that name someone else made could hold their config. */
function ownPrivateDir(dir: string): boolean {
  try {
    const s = statSync(dir);
    return s.isDirectory() && s.uid === process.getuid?.() && (s.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

const written = new Map<string, string>();

/**
 * The environment to launch Chromium with so that it finds the fonts of `fontDirs` (see
 * {@link fontconfigXml}); empty without font directories. Writes the fontconfig file (once per
 * set of directories) into a private directory of the temp dir.
 */
export function chromiumLaunchEnv(o: { fontDirs?: readonly string[]; tmpDir?: string }): Record<string, string> {
  const dirs = o.fontDirs ?? [];
  if (dirs.length === 0) return {};
  const key = JSON.stringify([dirs, hostFontconfig()]);
  let file = written.get(key);
  if (!file || !existsSync(file)) {
    const id = createHash('sha256').update(key).digest('hex').slice(0, 12);
    const tmpDir = o.tmpDir ?? os.tmpdir();
    let dir = path.join(tmpDir, `papka-fontconfig-${id}-${process.getuid?.() ?? 'user'}`);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!ownPrivateDir(dir)) dir = mkdtempSync(path.join(tmpDir, `papka-fontconfig-${id}-`));
    file = path.join(dir, 'fonts.conf');
    const copies = path.join(dir, 'fonts');
    const names = copyBundledFonts(dirs, copies);
    // Written aside and renamed: a browser starting meanwhile never reads half a file.
    const part = `${file}.${process.pid}.part`;
    writeFileSync(part, fontconfigXml([copies], names, path.join(dir, 'cache')), { mode: 0o600 });
    renameSync(part, file);
    written.set(key, file);
  }
  return { FONTCONFIG_FILE: file };
}
