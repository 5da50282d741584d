import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The host's fontconfig file (what Chromium would read without us). */
const hostFontconfig = () => process.env.FONTCONFIG_FILE || '/etc/fonts/fonts.conf';

const FONT_FILE = /\.(ttf|otf|ttc)$/i;

/**
 * A fontconfig file that gives Chromium the fonts in `fontDirs` as local fonts, ahead of the
 * host's (which stay for glyphs the bundled ones lack): host font files of the same names as
 * `files` are refused (fontconfig would prefer a newer version of a family), so a document set
 * in a bundled family lays out with the bundled files on any machine. A document then names the family in CSS; nothing is inlined or parsed per page.
 */
export function fontconfigXml(fontDirs: readonly string[], files: readonly string[], cacheDir: string): string {
  const dirs = fontDirs.map((d) => path.resolve(d));
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
    '<fontconfig>',
    ...dirs.map((d) => `  <dir>${xml(d)}</dir>`),
    `  <include ignore_missing="yes">${xml(hostFontconfig())}</include>`,
    `  <cachedir>${xml(cacheDir)}</cachedir>`,
    '  <selectfont>',
    '    <acceptfont>',
    ...dirs.map((d) => `      <glob>${xml(d)}/*</glob>`),
    '    </acceptfont>',
    '    <rejectfont>',
    ...files.map((f) => `      <glob>*/${xml(f)}</glob>`),
    '    </rejectfont>',
    '  </selectfont>',
    '</fontconfig>',
    '',
  ].join('\n');
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
    // Written aside and renamed: a browser starting meanwhile never reads half a file.
    const part = `${file}.${process.pid}.part`;
    writeFileSync(part, fontconfigXml(dirs, dirs.flatMap((d) => readdirSync(d).filter((f) => FONT_FILE.test(f))), path.join(dir, 'cache')), { mode: 0o600 });
    renameSync(part, file);
    written.set(key, file);
  }
  return { FONTCONFIG_FILE: file };
}
