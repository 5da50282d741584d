import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { DocumentView } from '@papka/contracts';
import {
  apiClient,
  baseUrl,
  createTestDatabase,
  dropDatabase,
  eventually,
  infraEnv,
  s3Env,
  serviceEnv,
  startService,
  testToken,
  type RunningService,
} from '@papka/testing';
import { bootstrap } from '../src/bootstrap';
import { BUILTIN_TEMPLATES } from '../src/templates/builtin/builtin';
import { RenderPoolHost } from '../src/rendering/render-pool.provider';
import { download } from './parties';

/**
 * The browser this documents instance launches, behind a launcher script of the test's own: it
 * execs the real Chromium while `up()`, and fails at once while `down()` (as a browser that
 * cannot start does: /tmp full, a broken image, OOM at start), writing a line per launch.
 */
interface StagedChromium {
  path: string;
  up(): void;
  down(): void;
  /** Launches tried so far, failed or not. */
  launches(): number;
  remove(): void;
}

function stageChromium(real: string): StagedChromium {
  const dir = mkdtempSync(path.join(tmpdir(), 'papka-chromium-outage-'));
  const flag = path.join(dir, 'up');
  const log = path.join(dir, 'launches');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = path.join(dir, 'chromium');
  writeFileSync(
    script,
    ['#!/bin/sh', `echo launch >> ${q(log)}`, `if [ -e ${q(flag)} ]; then exec ${q(real)} "$@"; fi`, 'echo "Chromium cannot start (staged by the test)" >&2', 'exit 1', ''].join('\n'),
  );
  chmodSync(script, 0o755);
  writeFileSync(flag, '');
  return {
    path: script,
    up: () => writeFileSync(flag, ''),
    down: () => rmSync(flag, { force: true }),
    launches: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe('documents made while Chromium cannot start, for longer than the render retry budget (PostgreSQL + Kafka + MinIO + Chromium)', () => {
  jest.setTimeout(240_000);
  let chromium: StagedChromium;
  let contractorsDb: string;
  let documentsDb: string;
  let contractors: RunningService;
  let documents: INestApplication;
  let api: ReturnType<typeof apiClient>;
  let token: string;
  let contractorId: string;

  const letter = BUILTIN_TEMPLATES.find((t) => t.kind === 'letter')!;
  const construct = (name: string) =>
    api<{ uuid: string }>('POST', '/v2/docs/constructor', { type: 'Письмо', template: letter.uuid, name, contractor: contractorId, masks: { body: `Текст: ${name}` } });
  const stateOf = async (id: string) => (await api<DocumentView[]>('GET', '/v2/docs/documents?size=200')).body.find((d) => d.uuid === id);
  const ready = async () => (await api('GET', '/health/ready')).status;

  beforeAll(async () => {
    chromium = stageChromium(infraEnv().CHROMIUM_PATH);
    contractorsDb = await createTestDatabase('chromium_outage_contractors');
    documentsDb = await createTestDatabase('chromium_outage_documents');
    contractors = await startService('contractors', serviceEnv({ DATABASE_URL: contractorsDb }));
    documents = await bootstrap({
      ...serviceEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: documentsDb,
      ...s3Env(),
      CHROMIUM_PATH: chromium.path,
      RENDER_PAGES: '1',
      DOWNLOAD_WAIT_MS: '500',
    });
    token = await testToken('chromium-outage');
    api = apiClient(baseUrl(documents), token);
    const created = await apiClient(contractors.url, token)<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 3, name: 'Петров Пётр' });
    expect(created.status).toBe(201);
    contractorId = created.body.uuid;
    // The documents service learns of the contractor from its event.
    await eventually(async () => (await api('GET', `/v2/docs/contractors/${contractorId}/documents`)).status === 200, 60_000, 300);
  });

  afterAll(async () => {
    chromium?.up();
    await documents?.close();
    await contractors?.stop();
    for (const db of [contractorsDb, documentsDb]) if (db) await dropDatabase(db);
    chromium?.remove();
  });

  it('renders them once Chromium starts again, instead of failing them for good', async () => {
    // The launcher works: a document renders.
    const before = await construct('до сбоя');
    expect(before.status).toBe(201);
    await eventually(async () => (await stateOf(before.body.uuid))?.renderState !== 'pending', 60_000, 300);
    expect(await stateOf(before.body.uuid)).toMatchObject({ renderState: 'rendered' });

    // Chromium dies and cannot start again for a while.
    const pool = documents.get(RenderPoolHost, { strict: false }).pool!;
    const launched = chromium.launches();
    chromium.down();
    process.kill(pool.browserPid()!, 'SIGKILL');
    await eventually(async () => chromium.launches() > launched && (await ready()) === 503, 30_000, 100);

    const made = await Promise.all([construct('во время сбоя 1'), construct('во время сбоя 2')]);
    expect(made.map((r) => r.status)).toEqual([201, 201]);
    const ids = made.map((r) => r.body.uuid);

    // The outage outlasts the whole retry budget of a render (1 + 5 + 15 s before its last
    // attempt): the pool tries to relaunch 1, 2, 5, 10 and 30 s apart, so the sixth launch, the
    // first one let through below, comes some 48 s after the kill. Until the fifth has failed
    // (about 18 s after it), the documents must still wait.
    const during = await eventually(async () => {
      const states = await Promise.all(ids.map(async (id) => (await stateOf(id))?.renderState));
      return (chromium.launches() >= launched + 5 || states.some((s) => s !== 'pending')) && states;
    }, 120_000, 500);
    expect(during).toEqual(['pending', 'pending']);
    expect(await ready()).toBe(503);

    chromium.up();
    for (const id of ids) {
      await eventually(async () => (await stateOf(id))?.renderState !== 'pending', 120_000, 500);
      expect(await stateOf(id)).toMatchObject({ renderState: 'rendered', renderError: null });
      const file = await download(baseUrl(documents), token, id);
      expect(file.status).toBe(200);
      expect(file.body.subarray(0, 5).toString()).toBe('%PDF-');
    }
    expect(await ready()).toBe(200);
  });
});
