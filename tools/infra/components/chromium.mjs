// @ts-check
// Chromium is not a server: "up" installs it if needed and checks that it renders.

import fs from 'node:fs';
import path from 'node:path';
import { aptInstall } from '../lib/apt.mjs';
import { IS_ROOT, RUN_DIR } from '../lib/config.mjs';
import { mkdirp, readText, rotateLog, writeAtomic } from '../lib/files.mjs';
import { isExec, run, which } from '../lib/processes.mjs';
import { InfraError, say } from '../lib/report.mjs';

const logFile = path.join(RUN_DIR, 'chromium.log');
const profile = path.join(RUN_DIR, 'chromium', 'profile');
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];
const FONT_PKGS = {
  'fonts-liberation': ['/usr/share/fonts/truetype/liberation', '/usr/share/fonts/truetype/liberation2'],
  'fonts-dejavu-core': ['/usr/share/fonts/truetype/dejavu'],
  'fonts-noto-core': ['/usr/share/fonts/truetype/noto'],
};

function find() {
  const o = process.env.PAPKA_CHROMIUM_PATH;
  if (o) return isExec(o) ? o : null;
  return CANDIDATES.find(isExec) || null;
}

const stampFile = path.join(RUN_DIR, 'chromium', 'renders-ok');

/** What the render check is remembered by: the binary's files with their size and mtime. @param {string} exe */
function renderStamp(exe) {
  const files = [exe, fs.realpathSync(exe), '/usr/lib/chromium/chromium'];
  const parts = [...new Set(files)].map((f) => {
    try {
      const st = fs.statSync(f);
      return `${f} ${st.size} ${st.mtimeMs}`;
    } catch {
      return `${f} -`;
    }
  });
  return parts.join('\n') + '\n';
}

function missingFonts() {
  return Object.entries(FONT_PKGS)
    .filter(([, dirs]) => !dirs.some((d) => fs.existsSync(d)))
    .map(([pkg]) => pkg);
}

/** @param {string} exe @returns {Promise<true | string>} */
async function renders(exe) {
  mkdirp(profile);
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    `--user-data-dir=${profile}`,
    '--dump-dom',
    'data:text/html,<p>ok</p>',
  ];
  rotateLog(logFile);
  const r = await run(exe, args, { logFile, timeoutMs: 60000 });
  return r.stdout.includes('<p>ok</p>') ? true : `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}; output: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
}

/** @type {import('./index.mjs').Component} */
export const chromium = {
  name: 'chromium',
  port: null,
  logFile,
  dataDirs: [path.join(RUN_DIR, 'chromium')],
  get env() {
    return { CHROMIUM_PATH: find() || '' };
  },

  async status() {
    const p = find();
    return { running: !!p, path: p };
  },

  async up() {
    let exe = find();
    if (!exe) {
      if (process.env.PAPKA_CHROMIUM_PATH) {
        throw new InfraError(`PAPKA_CHROMIUM_PATH=${process.env.PAPKA_CHROMIUM_PATH} is not an executable`);
      }
      say('chromium', 'not installed; installing the Debian package and Cyrillic-capable fonts');
      await aptInstall('chromium', ['chromium', 'fonts-liberation', 'fonts-dejavu-core', 'fonts-noto-core', 'poppler-utils', 'libreoffice-writer-nogui'], logFile);
      exe = find();
      if (!exe) throw new InfraError('chromium still not found after apt-get install', { log: logFile });
    } else {
      // poppler-utils (pdftotext, pdftoppm): tests read rendered PDFs as a person would.
      // libreoffice-writer-nogui: DOCX templates become PDFs where it is installed; tests cover that path.
      const fonts = [
        ...missingFonts(),
        ...(which('pdftotext') ? [] : ['poppler-utils']),
        ...(which('soffice') ? [] : ['libreoffice-writer-nogui']),
      ];
      if (fonts.length && IS_ROOT && which('apt-get')) {
        say('chromium', `installing missing fonts: ${fonts.join(' ')}`);
        await aptInstall('chromium', fonts, logFile);
      }
    }
    // Rendering costs ~1 s; do it once per installed binary (keyed on its files' size and mtime).
    const stamp = renderStamp(exe);
    if (readText(stampFile) === stamp) return { path: exe, cached: true };
    const ok = await renders(exe);
    if (ok === true) writeAtomic(stampFile, stamp);
    if (ok !== true) {
      throw new InfraError(`${exe} did not render a test page: ${ok}`, {
        log: logFile,
        hint: `try by hand: ${exe} --headless --no-sandbox --disable-gpu --dump-dom 'data:text/html,<p>ok</p>'`,
      });
    }
    return { path: exe };
  },

  async down() {
    return false;
  },
};
