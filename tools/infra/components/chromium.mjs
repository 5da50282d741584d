// @ts-check
// Chromium is not a server: "up" finds the browser that renders and checks that it renders.
// The default is the chrome-headless-shell inside the npm package @sparticuz/chromium, unpacked
// by libs/render-pool (browser-path.ts) into the temp dir: the browser `npm start` and the
// documents image use, so the tests render on it. PAPKA_CHROMIUM_PATH pins another (e.g.
// Debian's /usr/bin/chromium). This component needs `npm ci` to have run (the others do not).

import fs from 'node:fs';
import path from 'node:path';
import { aptInstall } from '../lib/apt.mjs';
import { IS_ROOT, REPO, RUN_DIR } from '../lib/config.mjs';
import { mkdirp, readText, rotateLog, writeAtomic } from '../lib/files.mjs';
import { isExec, run, which } from '../lib/processes.mjs';
import { InfraError, say } from '../lib/report.mjs';

const logFile = path.join(RUN_DIR, 'chromium.log');
/** The browser the last successful check rendered with: what the env file names. */
const pathFile = path.join(RUN_DIR, 'chromium', 'path');
const stampFile = path.join(RUN_DIR, 'chromium', 'renders-ok');
const FONT_PKGS = {
  'fonts-liberation': ['/usr/share/fonts/truetype/liberation', '/usr/share/fonts/truetype/liberation2'],
  'fonts-dejavu-core': ['/usr/share/fonts/truetype/dejavu'],
  'fonts-noto-core': ['/usr/share/fonts/truetype/noto'],
};
const BUNDLED_PKG = path.join(REPO, 'node_modules', '@sparticuz', 'chromium', 'package.json');

/** The browser in use: PAPKA_CHROMIUM_PATH, else the one recorded by the last `up`. */
function find() {
  const o = process.env.PAPKA_CHROMIUM_PATH;
  if (o) return isExec(o) ? o : null;
  const recorded = readText(pathFile)?.trim();
  return recorded && isExec(recorded) ? recorded : null;
}

/** What the render check is remembered by: the package version and the binary's size and mtime. @param {string} exe */
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
  return [`package ${readText(BUNDLED_PKG)?.match(/"version":\s*"([^"]+)"/)?.[1] ?? '-'}`, ...parts].join('\n') + '\n';
}

function missingFonts() {
  return Object.entries(FONT_PKGS)
    .filter(([, dirs]) => !dirs.some((d) => fs.existsSync(d)))
    .map(([pkg]) => pkg);
}

/**
 * Resolves the browser exactly as the documents service does (unpacking the npm shell if needed)
 * and renders a PDF through the render pool's own launch (CHROMIUM_ARGS, secured page).
 */
const CHECK = `
const rp = require('./libs/render-pool/src');
(async () => {
  let exe;
  try {
    exe = rp.resolveBrowserPath({ chromiumPath: process.env.PAPKA_CHROMIUM_PATH }).path;
    const probe = rp.probeBrowser(exe);
    if (!probe.ok) throw new rp.BrowserUnavailableError(probe.reason, probe.fix);
    const browser = await rp.launchChromium({ executablePath: exe });
    try {
      const page = await browser.newPage();
      const pdf = Buffer.from(await page.render('<p>ok</p>', { landscape: false, timeoutMs: 30000 }));
      if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new Error('the render is not a PDF');
      process.stdout.write(JSON.stringify({ ok: true, path: exe, version: await browser.version() }) + '\\n');
    } finally {
      await browser.close();
    }
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, path: exe, error: String(err && err.message || err), fix: err && err.fix }) + '\\n');
    process.exitCode = 1;
  }
})();
`;

/** @returns {Promise<{ ok: true, path: string, version: string } | { ok: false, path?: string, error: string, fix?: string }>} */
async function check() {
  const r = await run(process.execPath, ['-r', '@swc-node/register', '-e', CHECK], { logFile, cwd: REPO, timeoutMs: 180000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    return { ok: false, error: `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}; output: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}` };
  }
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
    const pinned = process.env.PAPKA_CHROMIUM_PATH;
    if (pinned && !isExec(pinned)) throw new InfraError(`PAPKA_CHROMIUM_PATH=${pinned} is not an executable`);
    if (!pinned && !fs.existsSync(BUNDLED_PKG)) {
      throw new InfraError('the npm package @sparticuz/chromium (the default browser) is not installed', { hint: 'npm ci' });
    }
    // poppler-utils (pdftotext, pdftoppm): tests read rendered PDFs as a person would.
    // libreoffice-writer-nogui: DOCX templates become PDFs where it is installed; tests cover that path.
    // Fonts: Cyrillic beyond what the templates bundle.
    const pkgs = [...missingFonts(), ...(which('pdftotext') ? [] : ['poppler-utils']), ...(which('soffice') ? [] : ['libreoffice-writer-nogui'])];
    if (pkgs.length && IS_ROOT && which('apt-get')) {
      say('chromium', `installing missing fonts and tools: ${pkgs.join(' ')}`);
      await aptInstall('chromium', pkgs, logFile);
    }
    // Rendering costs ~1 s (plus ~2 s to unpack the shell the first time); once per binary.
    const known = find();
    if (known && readText(stampFile) === renderStamp(known)) return { path: known, cached: true };
    rotateLog(logFile);
    let r = await check();
    const fix = !r.ok ? r.fix : undefined;
    if (!r.ok && fix && /^(sudo )?apt-get install -y /.test(fix) && IS_ROOT && which('apt-get')) {
      const missing = fix.replace(/^(sudo )?apt-get install -y /, '').split(' ');
      say('chromium', `${r.error}; installing ${missing.join(' ')}`);
      await aptInstall('chromium', missing, logFile);
      r = await check();
    }
    if (!r.ok) {
      throw new InfraError(`${r.path ?? 'the browser'} did not render a test page: ${r.error}`, {
        log: logFile,
        hint: r.fix ?? 'npm ci',
      });
    }
    mkdirp(path.dirname(pathFile));
    writeAtomic(pathFile, `${r.path}\n`);
    writeAtomic(stampFile, renderStamp(r.path));
    say('chromium', `renders with ${r.version} (${r.path})`);
    return { path: r.path };
  },

  async down() {
    return false;
  },
};
