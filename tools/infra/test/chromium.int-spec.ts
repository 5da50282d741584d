import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundledBrowserPath } from '@papka/render-pool';

const REPO = path.resolve(__dirname, '../../..');

/** `node tools/infra/infra.mjs <args>` with its run directory (lock, env file) of its own. */
function infra(runDir: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO, 'tools/infra/infra.mjs'), ...args],
      { cwd: REPO, env: { ...process.env, PAPKA_INFRA_DIR: runDir, ...env }, timeout: 300_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/**
 * tools/infra's chromium component gives the tests the documents service's default browser, the
 * npm chrome-headless-shell, after rendering a PDF with it; PAPKA_CHROMIUM_PATH pins another.
 */
describe('tools/infra chromium', () => {
  let runDir: string;
  beforeEach(() => {
    runDir = mkdtempSync(path.join(tmpdir(), 'papka-infra-chromium-'));
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  const envFile = () => readFileSync(path.join(runDir, 'env'), 'utf8');

  it('writes the npm chrome-headless-shell into the env file, once it rendered with it', async () => {
    const env = { PAPKA_CHROMIUM_PATH: '' };
    const first = await infra(runDir, env, 'up', 'chromium');
    expect(first).toMatchObject({ code: 0, output: expect.stringMatching(/renders with HeadlessChrome\/\d+/) });
    expect(envFile()).toContain(`CHROMIUM_PATH=${bundledBrowserPath()}\n`);
    // The check is remembered: the second `up` does not render again.
    const again = await infra(runDir, env, 'up', 'chromium');
    expect(again).toMatchObject({ code: 0, output: expect.stringContaining('rendered fine before') });
  });

  it('refuses a PAPKA_CHROMIUM_PATH that is not there', async () => {
    const r = await infra(runDir, { PAPKA_CHROMIUM_PATH: '/nonexistent/chromium' }, 'up', 'chromium');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('PAPKA_CHROMIUM_PATH=/nonexistent/chromium is not an executable');
  });
});
