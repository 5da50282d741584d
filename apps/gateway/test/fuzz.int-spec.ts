import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'undici';
import {
  apiClient,
  createTestDatabase,
  dadataEnv,
  dropDatabase,
  eventually,
  FIXTURE_ACCOUNT_NUMBER as ACCOUNT_NUMBER,
  FIXTURE_BIK as BIK,
  FIXTURE_INN as INN,
  infraEnv,
  s3Env,
  serviceEnv,
  startFakeAdesk,
  startFakeDadata,
  startService,
  testToken,
  type FakeAdesk,
  type FakeDadata,
  type RunningService,
} from '@papka/testing';
import type { ConnectionView } from '@papka/contracts';
import { ROUTES } from '../src/proxy/routes';

type Api = ReturnType<typeof apiClient>;
type Body = Record<string, unknown>;

/** One request the fuzzer sent and what it was answered. */
interface Shot {
  what: string;
  method: string;
  path: string;
  status: number;
  body: unknown;
}

const NUL = 'abc\u0000def';
const DEEP = 8_000;

/** `{"a":{"a":...}}` nested `depth` levels, built as text: no recursion on either side. */
const deepJson = (depth: number, key = 'a') => `${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}`;

/** Values of the wrong type for a field whose valid value is `valid`. */
const wrongTypes = (valid: unknown): unknown[] => {
  const base: unknown[] = [null, [], { x: 1 }, true];
  if (typeof valid === 'string') return [...base, 12345, 'x'.repeat(100_000), ''];
  if (typeof valid === 'number') return [...base, 'abc', -1, 1e300, '1e400'];
  return [...base, 'abc', 42, 'x'.repeat(100_000)];
};

/**
 * Bad input over every gateway route with a body, against the real services (contractors,
 * documents, interactions, finance-sync with the fake Adesk behind the gateway): NUL characters, wrong types, huge strings, deep
 * nesting, bodies that lie about their encoding, empty and 2 MB bodies, bad UUIDs. Whatever the
 * answer, it must not be a 5xx: bad input is the client's problem and says which field.
 */
describe('gateway fuzz: no 5xx on bad input', () => {
  const infraSettings = infraEnv();
  let dadata: FakeDadata;
  let adesk: FakeAdesk;
  const dbs: string[] = [];
  const services: RunningService[] = [];
  let gateway: RunningService;
  let token: string;
  let api: Api;
  /** Path ids that exist, so a request gets past the look-ups to the writes. */
  const ids: Record<string, string> = {};
  /** A valid-ish body per `METHOD path`, its ids filled in. */
  let bodies: Record<string, Body>;
  /** This test's shots (every 5xx is reported, whichever test sent it); `total` counts all. */
  const shots: Shot[] = [];
  let total = 0;

  /** Sends a raw body and records the answer; bounded by undici's timeouts. */
  const shoot = async (what: string, method: string, path: string, raw: string | Buffer | undefined, headers: Record<string, string> = {}) => {
    const res = await request(`${gateway.url}${path}`, {
      method: method as 'POST',
      headers: { authorization: `Bearer ${token}`, ...(raw !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: raw,
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    const shot = { what, method, path, status: res.statusCode, body };
    shots.push(shot);
    total++;
    return shot;
  };

  const fiveHundreds = () => shots.filter((s) => s.status >= 500).map((s) => `${s.status} ${s.method} ${s.path} [${s.what}] ${JSON.stringify(s.body).slice(0, 200)}`);

  const withBody = ROUTES.filter((r) => r.method !== 'GET' || r.path === '/v2/docs/findBank');

  beforeAll(async () => {
    dadata = await startFakeDadata();
    adesk = await startFakeAdesk();
    const [contractorsDb, documentsDb, interactionsDb, financeDb] = await Promise.all([
      createTestDatabase('fuzz_contractors'),
      createTestDatabase('fuzz_documents'),
      createTestDatabase('fuzz_interactions'),
      createTestDatabase('fuzz_finance'),
    ]);
    dbs.push(contractorsDb, documentsDb, interactionsDb, financeDb);
    const started = await Promise.allSettled([
      startService('contractors', serviceEnv({ DATABASE_URL: contractorsDb, ...dadataEnv(dadata) })),
      startService('documents', { ...serviceEnv(), ...s3Env(), DATABASE_URL: documentsDb, CHROMIUM_PATH: infraSettings.CHROMIUM_PATH, RENDER_PAGES: '1' }),
      startService('interactions', serviceEnv({ ...s3Env(), DATABASE_URL: interactionsDb, REPLICA_WAIT_MS: '300' })),
      startService('finance-sync', serviceEnv({ DATABASE_URL: financeDb, ADESK_API_URL: adesk.url })),
    ]);
    for (const r of started) if (r.status === 'fulfilled') services.push(r.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [contractors, documents, interactions, finance] = services as [RunningService, RunningService, RunningService, RunningService];
    gateway = await startService('gateway', {
      ...serviceEnv(),
      CONTRACTORS_URL: contractors.url,
      DOCUMENTS_URL: documents.url,
      INTERACTIONS_URL: interactions.url,
      FINANCE_SYNC_URL: finance.url,
      RATE_LIMIT_POINTS: '1000000',
    });
    services.push(gateway);
    token = await testToken(`fuzz-${randomBytes(4).toString('hex')}`);
    api = apiClient(gateway.url, token);

    // Real ids for the paths, so the bad values reach the database writes.
    const contractor = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 1, inn: INN, name: 'ИП Фаззер', address: 'г Москва' });
    expect(contractor.status).toBe(201);
    ids.id = contractor.body.uuid;
    expect((await api('POST', `/v2/docs/contractors/${ids.id}/bank`, { bik: BIK, number: ACCOUNT_NUMBER })).status).toBeLessThan(300);
    const bankId = (await api<{ bankInfo: { id: string }[] }>('GET', `/v2/docs/contractors/${ids.id}`)).body.bankInfo[0]!.id;
    const templates = await api<{ uuid: string; builtin: boolean; masks: { id: string }[] }[]>('GET', '/v2/docs/templates');
    const letter = templates.body.find((t) => t.builtin && t.masks.some((m) => m.id === 'body'))!.uuid;
    const constructorBody = { type: 'Письмо', template: letter, name: 'Письмо', contractor: ids.id, sum: 100, masks: { number: '1', subject: 'Тема', body: 'Текст' } };
    // The documents and interactions services know the contractor once its event arrives.
    const documentId = await eventually(async () => {
      const made = await api<{ uuid: string }>('POST', '/v2/docs/constructor', constructorBody);
      return made.status === 201 && made.body.uuid;
    }, 30_000);
    const interactionId = await eventually(async () => {
      const made = await api<{ uuid: string }>('POST', '/v2/docs/interactions', { contractor: ids.id, name: 'Сделка', sum: 1000 });
      return made.status === 201 && made.body.uuid;
    }, 30_000);

    // A live Adesk connection, so bodies reach the token check and the webhook its hook token.
    const acct = adesk.addAccount();
    const connected = await api<{ connection: ConnectionView }>('PUT', '/v2/finance/connections/adesk', { token: acct.token });
    expect(connected.status).toBe(200);
    ids.hookToken = new URL(connected.body.connection.webhookUrl!).pathname.split('/').at(-1)!;

    bodies = {
      'POST /v2/docs/findOrg': { query: INN },
      'GET /v2/docs/findBank': { query: BIK },
      'POST /v2/docs/contractors': { type: 1, inn: INN, name: 'ИП Новый', address: 'г Москва' },
      'POST /v2/docs/contractors/:id/bank': { bik: BIK, number: ACCOUNT_NUMBER, name: 'Расчетный счёт' },
      'DELETE /v2/docs/contractors/:id/bank': { id: randomUUID() },
      'POST /v2/docs/contractors/:id/contact': { fio: 'Тимур', phone: '+7 916 123-45-67', post: 'Директор', email: 't@example.com' },
      'DELETE /v2/docs/contractors/:id/contact': { id: randomUUID() },
      'PUT /v2/docs/organization': {
        inn: '7707083893',
        kpp: '773601001',
        name: 'ООО Ромашка',
        address: 'г Москва',
        director: 'Иванов И. И.',
        directorPost: 'Директор',
        bankAccounts: [{ bik: BIK, number: ACCOUNT_NUMBER, name: 'Основной' }],
      },
      'POST /v2/docs/constructor': constructorBody,
      'POST /v2/docs/templates': { name: 'Шаблон', filename: 'nothing.html', masks: [{ id: 'number', name: 'Номер', type: 'string' }], font: 'Arial' },
      'POST /v2/docs/documents/:id': { status: 2 },
      'POST /v2/docs/interactions': { contractor: ids.id, name: 'Сделка 2', sum: 500 },
      'POST /v2/docs/interactions/:id/desc': { description: '<p>Описание</p>' },
      'POST /v2/docs/interactions/:id/status': { status: 2 },
      'POST /v2/docs/interactions/:id/payments': { type: 'income', name: 'Оплата', sum: 10, date: '2025-09-22', contractorBank: bankId },
      'POST /v2/docs/interactions/:id/documents': { documentId },
      'POST /v2/docs/interactions/:id/files': { filename: 'nothing.pdf', name: 'Файл' },
      'POST /v2/docs/interactions/:id/download': { documentId },
      'PATCH /v2/docs/interactions/:id': { name: 'Сделка, этап 2', sum: 2000 },
      'PUT /v2/finance/connections/:target': { token: acct.token, settings: { bankAccountId: acct.bankAccounts()[0]!.id } },
      'POST /v2/finance/records/retry': { target: 'adesk', state: 'failed' },
      'POST /v2/finance/webhooks/adesk/:hookToken': { eventTimestamp: '2025-09-22T10:00:00Z', eventType: 'transaction.created', eventId: randomUUID(), data: [{ id: 1 }] },
    };
    // Each route family's own id: a document under /documents, an interaction under /interactions.
    ids.documentPath = documentId;
    ids.interactionPath = interactionId;
  }, 180_000);

  beforeEach(() => {
    shots.length = 0;
  });

  afterAll(async () => {
    for (const s of services.reverse()) await s.stop();
    await dadata?.close();
    await adesk?.close();
    for (const db of dbs) await dropDatabase(db);
  });

  /** The path of a route with real ids; the ids of routes that delete stay random. */
  const pathOf = (method: string, path: string) => {
    if (method === 'DELETE' && !bodies[`${method} ${path}`]) return path.replace(/:(\w+)/g, () => randomUUID());
    const id = path.startsWith('/v2/docs/interactions/') ? ids.interactionPath : path.startsWith('/v2/docs/documents/') ? ids.documentPath : ids.id;
    return path.replace(':id', id!).replace(':target', 'adesk').replace(':hookToken', ids.hookToken!).replace(/:(\w+)/g, () => randomUUID());
  };

  it('answers a NUL character in each string field with a 400 naming the field', async () => {
    const misses: string[] = [];
    for (const route of withBody) {
      const valid = bodies[`${route.method} ${route.path}`];
      if (!valid) continue;
      const path = pathOf(route.method, route.path);
      for (const [field, value] of Object.entries(valid)) {
        if (typeof value !== 'string') continue;
        const shot = await shoot(`NUL in ${field}`, route.method, path, JSON.stringify({ ...valid, [field]: NUL }));
        const errors = (shot.body as { errors?: Record<string, unknown> }).errors ?? {};
        if (shot.status !== 400 || !(field in errors)) misses.push(`${shot.status} ${route.method} ${route.path} ${field}: ${JSON.stringify(shot.body).slice(0, 200)}`);
      }
    }
    // Nested: a NUL in a mask value and in a mask's key.
    const ctor = bodies['POST /v2/docs/constructor']!;
    const inMask = await shoot('NUL in masks.body', 'POST', '/v2/docs/constructor', JSON.stringify({ ...ctor, masks: { body: NUL } }));
    const inKey = await shoot('NUL in a masks key', 'POST', '/v2/docs/constructor', JSON.stringify({ ...ctor, masks: { ['a\u0000b']: 'x' } }));
    // And in a query string.
    for (const path of ['/v2/contractors?q=%00', '/v2/docs/documents?type=a%00b', '/v2/docs/findBank?query=%00']) {
      await shoot('NUL in the query', 'GET', path, undefined);
    }
    expect(fiveHundreds()).toEqual([]);
    expect(misses).toEqual([]);
    expect(inMask).toMatchObject({ status: 400, body: { errors: { 'masks.body': [expect.stringContaining('NUL')] } } });
    expect(inKey.status).toBe(400);
  });

  it('answers JSON nested 8,000 deep (and 3,000 inside masks) with a 400, on every route', async () => {
    for (const route of withBody) {
      if (route.body === 'upload') continue;
      const path = pathOf(route.method, route.path);
      await shoot('8,000 deep array', route.method, path, `[${deepJson(DEEP)}]`);
      await shoot('8,000 deep object', route.method, path, deepJson(DEEP));
    }
    const ctor = bodies['POST /v2/docs/constructor']!;
    const masks = await shoot('3,000 deep masks', 'POST', '/v2/docs/constructor', JSON.stringify({ ...ctor, masks: '@' }).replace('"@"', deepJson(3_000)));
    expect(fiveHundreds()).toEqual([]);
    expect(masks).toMatchObject({ status: 400, body: { errors: { masks: [expect.stringContaining('nested deeper')] } } });
  });

  it('answers a body that is not what its Content-Encoding says with a 4xx, on every route', async () => {
    const misnamed: string[] = [];
    for (const route of withBody) {
      const path = pathOf(route.method, route.path);
      const valid = JSON.stringify(bodies[`${route.method} ${route.path}`] ?? {});
      const shot = await shoot('not gzip', route.method, path, valid, { 'content-encoding': 'gzip' });
      if (route.body !== 'upload' && (shot.body as { code?: string }).code !== 'BAD_CONTENT_ENCODING') misnamed.push(`${shot.status} ${route.method} ${route.path}`);
      await shoot('not deflate', route.method, path, valid, { 'content-encoding': 'deflate' });
      await shoot('not br', route.method, path, valid, { 'content-encoding': 'br' });
      await shoot('unknown encoding', route.method, path, valid, { 'content-encoding': 'zork' });
    }
    expect(fiveHundreds()).toEqual([]);
    expect(misnamed).toEqual([]);
  });

  it('answers "sum": null with a 400 naming sum on the constructor and PATCH interactions', async () => {
    const ctor = await shoot('sum null', 'POST', '/v2/docs/constructor', JSON.stringify({ ...bodies['POST /v2/docs/constructor'], sum: null }));
    expect(ctor).toMatchObject({ status: 400, body: { errors: { sum: expect.any(Array) } } });
    const patch = await shoot('sum null', 'PATCH', `/v2/docs/interactions/${ids.interactionPath}`, JSON.stringify({ sum: null }));
    expect(patch).toMatchObject({ status: 400, body: { errors: { sum: expect.any(Array) } } });
  });

  it('answers wrong types and huge strings in each field, and wrong whole bodies, below 500', async () => {
    for (const route of withBody) {
      const valid = bodies[`${route.method} ${route.path}`];
      const path = pathOf(route.method, route.path);
      for (const [field, value] of Object.entries(valid ?? {})) {
        for (const wrong of wrongTypes(value)) {
          await shoot(`${field}: ${JSON.stringify(wrong).slice(0, 20)}`, route.method, path, JSON.stringify({ ...valid, [field]: wrong }));
        }
      }
      for (const raw of ['[]', '[1,2]', '"text"', '42', 'null', '{}', '{"unknown":1}', '{', '\u0000', '{"a":"\\ud800"}']) {
        await shoot(`whole body ${raw}`, route.method, path, raw);
      }
    }
    expect(fiveHundreds()).toEqual([]);
  });

  it('answers empty and 2 MB bodies, and bad UUIDs in the path, below 500', async () => {
    const big = Buffer.from(JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }));
    for (const route of withBody) {
      const path = pathOf(route.method, route.path);
      await shoot('empty body', route.method, path, '');
      await shoot('empty body, no type', route.method, path, undefined);
      const huge = await shoot('2 MB body', route.method, path, big);
      if (route.body !== 'upload') expect(huge.status).toBe(413);
    }
    for (const route of ROUTES) {
      if (!route.path.includes(':')) continue;
      for (const bad of ['not-a-uuid', '%00', '1%27%20OR%201%3D1', 'x'.repeat(3000), '00000000-0000-0000-0000-00000000000g']) {
        const valid = bodies[`${route.method} ${route.path}`];
        await shoot(`bad uuid ${bad.slice(0, 12)}`, route.method, route.path.replace(/:(\w+)/g, bad), valid ? JSON.stringify(valid) : undefined);
      }
    }
    expect(fiveHundreds()).toEqual([]);
    expect(total).toBeGreaterThan(500);
  });
});
