import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledCopyName, chromiumLaunchEnv, fontconfigXml } from './fonts';

describe('fonts for the browser (fontconfig)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'papka-fonts-spec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the bundled directory first, then the host config and the system font directories, and refuses host files of the bundled names', () => {
    const xml = fontconfigXml(['/opt/papka/fonts'], ['LiberationSans-Regular.ttf'], '/tmp/cache');
    const dirAt = xml.indexOf('<dir>/opt/papka/fonts</dir>');
    expect(dirAt).toBeGreaterThan(0);
    expect(xml.indexOf('<include ignore_missing="yes">')).toBeGreaterThan(dirAt);
    expect(xml.indexOf('<dir>/usr/share/fonts</dir>')).toBeGreaterThan(xml.indexOf('<include'));
    expect(xml).toContain('<rejectfont>\n      <glob>*/LiberationSans-Regular.ttf</glob>');
    // An accept glob does not protect a file from a reject glob in Chromium's fontconfig.
    expect(xml).not.toContain('<acceptfont>');
    expect(xml).toContain('<cachedir>/tmp/cache</cachedir>');
  });

  it('escapes paths for XML', () => {
    expect(fontconfigXml(['/a&b/<c>'], [], '/t')).toContain('<dir>/a&amp;b/&lt;c&gt;</dir>');
  });

  it('writes the file once into a private directory and points FONTCONFIG_FILE at it; nothing without font directories', () => {
    const fonts = path.join(dir, 'fonts');
    mkdirSync(fonts);
    writeFileSync(path.join(fonts, 'X-Regular.ttf'), 'not really a font');
    writeFileSync(path.join(fonts, 'LICENSE.txt'), 'text');
    expect(chromiumLaunchEnv({})).toEqual({});
    const env = chromiumLaunchEnv({ fontDirs: [fonts], tmpDir: dir });
    const file = env.FONTCONFIG_FILE!;
    expect(path.dirname(path.dirname(file))).toBe(dir);
    expect(statSync(path.dirname(file)).mode & 0o077).toBe(0);
    const xml = readFileSync(file, 'utf8');
    // The bundled files are listed from a private copy under names no reject glob matches.
    const copies = path.join(path.dirname(file), 'fonts');
    expect(xml).toContain(`<dir>${copies}</dir>`);
    expect(xml).not.toContain(`<dir>${fonts}</dir>`);
    expect(readFileSync(path.join(copies, bundledCopyName('X-Regular.ttf')), 'utf8')).toBe('not really a font');
    expect(bundledCopyName('X-Regular.ttf')).not.toBe('X-Regular.ttf');
    expect(xml).toContain('<glob>*/X-Regular.ttf</glob>');
    expect(xml).not.toContain('LICENSE');
    expect(chromiumLaunchEnv({ fontDirs: [fonts], tmpDir: dir })).toEqual(env);
  });
});
