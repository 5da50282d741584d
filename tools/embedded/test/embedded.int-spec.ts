import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apiClient, freePort, REPO_ROOT } from '@papka/testing';

/**
 * The embedded default as a user runs it (`npm start`): embedded PostgreSQL, in-process
 * events, no Docker. It prints the URL and a token; with them a contractor is created and listed.
 */
describe('npm start (embedded mode)', () => {
  let child: ChildProcess;
  let output = '';
  const dataDir = mkdtempSync(path.join(tmpdir(), 'papka-embedded-'));

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts everything, prints the URL and a token that creates and lists a contractor', async () => {
    const [port, contractorsPort, documentsPort, pgPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/embedded/start.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        CONTRACTORS_PORT: String(contractorsPort),
        DOCUMENTS_PORT: String(documentsPort),
        PAPKA_PG_PORT: String(pgPort),
        PAPKA_DATA_DIR: dataDir,
        PAPKA_ACCOUNT: 'embedded-test',
        AUTH_JWT_SECRET: '',
        DADATA_API_KEY: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));

    const started = Date.now();
    while (!/token:\s+\S+/.test(output)) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
      if (Date.now() - started > 90_000) throw new Error(`npm start did not print a token:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain(`http://localhost:${port}`);
    const token = /token:\s+(\S+)/.exec(output)![1];

    const api = apiClient(`http://127.0.0.1:${port}`, token);
    const created = await api<{ status: string; uuid: string }>('POST', '/v2/docs/contractors', {
      type: 2,
      inn: '7707083893',
      name: 'ПАО Сбербанк',
    });
    expect(created.status).toBe(201);
    const list = await api<{ uuid: string; mainInfo: { name: string; inn: string } }[]>('GET', '/v2/contractors');
    expect(list.status).toBe(200);
    expect(list.body).toEqual([expect.objectContaining({ uuid: created.body.uuid, mainInfo: expect.objectContaining({ name: 'ПАО Сбербанк', inn: '7707083893' }) })]);
    // No look-up key in this run: findOrg says so instead of failing obscurely.
    expect((await api('POST', '/v2/docs/findOrg', { query: '7707083893' })).status).toBe(503);
  });
});
