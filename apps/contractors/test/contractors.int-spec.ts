import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ContractorsRepository } from '../src/contractors/contractors.repository';
import { OrganizationRepository } from '../src/organization/organization.repository';
import { Topics, type ContractorSnapshot, type ContractorView, type EventEnvelope, type OrganizationSnapshot } from '@papka/contracts';
import {
  apiClient,
  baseUrl,
  createTestDatabase,
  dadataEnv,
  dadataFixtures,
  dropDatabase,
  eventually,
  FIXTURE_ACCOUNT_NUMBER as ACCOUNT,
  FIXTURE_BIK as BIK,
  FIXTURE_INN as INN,
  infra,
  readTopic,
  REPO_ROOT,
  serviceEnv,
  startFakeDadata,
  startService,
  testToken,
  type FakeDadata,
  type RunningService,
} from '@papka/testing';
import { bootstrap as startContractors } from '../src/bootstrap';
import { announceOrganizations } from '../src/organization/organization.announce';

type Api = ReturnType<typeof apiClient>;

describe('contractors through the gateway (PostgreSQL + Kafka + fake DaData)', () => {
  let dadata: FakeDadata;
  let dbUrl: string;
  let contractors: INestApplication;
  let gateway: RunningService;
  let api: Api;
  let other: Api;
  let anonymous: Api;

  beforeAll(async () => {
    dadata = await startFakeDadata();
    dbUrl = await createTestDatabase('contractors');
    contractors = await startContractors({
      ...serviceEnv(),
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl,
      ...dadataEnv(dadata),
      DADATA_TIMEOUT_MS: '1000',
      ENRICH_INTERVAL_MS: '300',
    });
    // The gateway runs as in production, in its own process.
    gateway = await startService('gateway', {
      ...serviceEnv(),
      CONTRACTORS_URL: baseUrl(contractors),
      RATE_LIMIT_POINTS: '10000',
      BODY_LIMIT_BYTES: String(64 * 1024),
    });
    api = apiClient(gateway.url, await testToken('acc-main'));
    other = apiClient(gateway.url, await testToken('acc-other'));
    anonymous = apiClient(gateway.url);
  });

  afterAll(async () => {
    await gateway?.stop();
    await contractors?.close();
    await dadata?.close();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  beforeEach(() => dadata.reset());

  const create = (body: Record<string, unknown>, client: Api = api) => client<{ status: string; uuid: string }>('POST', '/v2/docs/contractors', body);
  const get = (id: string, client: Api = api) => client<ContractorView>('GET', `/v2/docs/contractors/${id}`);

  describe('reference shapes', () => {
    let id: string;

    it('creates a contractor with an INN and stores the party object as fullInfo', async () => {
      const res = await create({ type: 1, inn: INN, name: 'ИП Артиков Тимур Дилшодович', address: 'Московская обл, г Щёлково' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ status: 'OK', uuid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      id = res.body.uuid;

      const got = await get(id);
      expect(got.status).toBe(200);
      expect(got.body).toEqual({
        uuid: id,
        type: 1,
        mainInfo: { name: 'ИП Артиков Тимур Дилшодович', inn: INN, address: 'Московская обл, г Щёлково' },
        bankInfo: [],
        contactInfo: [],
        fullInfo: dadataFixtures.partyIndividual(),
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
    });

    it('adds a bank account that carries the bank object, and a contact', async () => {
      const bank = await api('POST', `/v2/docs/contractors/${id}/bank`, { bik: BIK, number: ACCOUNT, name: 'Расчетный счёт' });
      expect(bank.status).toBe(201);
      expect(bank.body).toMatchObject({ status: 'OK' });
      const contact = await api('POST', `/v2/docs/contractors/${id}/contact`, {
        fio: 'Тимур',
        phone: '+7 916 123-45-67',
        post: 'Директор',
        email: 't.artikov@leecyber.com',
      });
      expect(contact.status).toBe(201);

      const got = await get(id);
      expect(got.body.bankInfo).toEqual([
        { id: expect.any(String), bik: BIK, number: ACCOUNT, name: 'Расчетный счёт', fullInfo: dadataFixtures.bankTochka() },
      ]);
      expect(got.body.contactInfo).toEqual([
        { id: expect.any(String), fio: 'Тимур', phone: '+7 916 123-45-67', post: 'Директор', email: 't.artikov@leecyber.com' },
      ]);
    });

    it('lists contractors as a bare array, newest first, with the same item shape', async () => {
      const list = await api<ContractorView[]>('GET', '/v2/contractors');
      expect(list.status).toBe(200);
      expect(Array.isArray(list.body)).toBe(true);
      expect(list.body[0]).toEqual((await get(id)).body);
    });

    it('removes a bank account by id in the body and a contact by id in the query', async () => {
      const before = (await get(id)).body;
      const delBank = await api('DELETE', `/v2/docs/contractors/${id}/bank`, { id: before.bankInfo[0].id });
      expect(delBank).toMatchObject({ status: 200, body: { status: 'OK' } });
      const delContact = await api('DELETE', `/v2/docs/contractors/${id}/contact?id=${before.contactInfo[0].id}`);
      expect(delContact).toMatchObject({ status: 200, body: { status: 'OK' } });
      const after = (await get(id)).body;
      expect(after.bankInfo).toEqual([]);
      expect(after.contactInfo).toEqual([]);
      // Deleting again: the item is gone.
      expect((await api('DELETE', `/v2/docs/contractors/${id}/bank`, { id: before.bankInfo[0].id })).status).toBe(404);
    });

    it('emits created and updated events with the full snapshot on papka.contractors.v1', async () => {
      const events = await readTopic(
        Topics.contractors,
        (ms) => ms.filter((m) => m.key === id).length >= 5,
        15_000,
      );
      const mine = events
        .filter((m) => m.key === id)
        .map((m) => JSON.parse(m.value) as EventEnvelope<ContractorSnapshot>)
        .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
      expect(mine.map((e) => e.type)).toEqual([
        'contractor.created',
        'contractor.updated',
        'contractor.updated',
        'contractor.updated',
        'contractor.updated',
      ]);
      expect(mine[0]).toMatchObject({ version: 1, accountId: 'acc-main', aggregateId: id, data: { uuid: id, fullInfo: { data: { inn: INN } } } });
      expect(mine[2].data.contactInfo).toHaveLength(1);
      expect(mine[2].data.bankInfo[0].fullInfo).toEqual(dadataFixtures.bankTochka());
      expect(mine[0].traceId).toBeTruthy();
    });

    it('deletes a contractor, emits contractor.deleted with the last snapshot, then 404s', async () => {
      const res = await api('DELETE', `/v2/docs/contractors/${id}`);
      expect(res).toMatchObject({ status: 200, body: { status: 'OK' } });
      expect((await get(id)).status).toBe(404);
      const events = await readTopic(Topics.contractors, (ms) => ms.some((m) => m.key === id && m.value.includes('contractor.deleted')), 15_000);
      const deleted = events.find((m) => m.key === id && m.value.includes('contractor.deleted'));
      expect(JSON.parse(deleted!.value).data.mainInfo.inn).toBe(INN);
    });
  });

  describe('Idempotency-Key', () => {
    it('creates a contractor once per key; the same key with another body is a 422', async () => {
      const headers = { 'idempotency-key': `contractor-${Date.now()}` };
      const body = { type: 3, name: 'ИП Повторов', address: 'г Тверь' };
      const first = await api<{ status: string; uuid: string }>('POST', '/v2/docs/contractors', body, { headers });
      const again = await api<{ status: string; uuid: string }>('POST', '/v2/docs/contractors', body, { headers });
      expect(first).toMatchObject({ status: 201, body: { status: 'OK', uuid: expect.any(String) } });
      expect(again).toMatchObject({ status: 201, body: { status: 'OK', uuid: first.body.uuid } });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      // The same body with its fields in another order (another client library) is the same request.
      const reordered = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { address: 'г Тверь', name: 'ИП Повторов', type: 3 }, { headers });
      expect(reordered).toMatchObject({ status: 201, body: { uuid: first.body.uuid } });
      const found = await api<ContractorView[]>('GET', `/v2/contractors?q=${encodeURIComponent('Повторов')}`);
      expect(found.body).toHaveLength(1);
      expect((await api('POST', '/v2/docs/contractors', { ...body, name: 'ИП Другой' }, { headers })).status).toBe(422);
    });
  });

  describe('look-ups', () => {
    it('findOrg answers the party suggestion for an INN', async () => {
      const res = await api('POST', '/v2/docs/findOrg', { query: INN });
      expect(res).toEqual(expect.objectContaining({ status: 200, body: dadataFixtures.partyIndividual() }));
    });

    it('findBank takes the BIK in a GET body or as ?query=', async () => {
      const inBody = await api('GET', '/v2/docs/findBank', { query: BIK });
      expect(inBody).toEqual(expect.objectContaining({ status: 200, body: dadataFixtures.bankTochka() }));
      const inQuery = await api('GET', `/v2/docs/findBank?query=${BIK}`);
      expect(inQuery.body).toEqual(dadataFixtures.bankTochka());
    });

    it('answers from the PostgreSQL cache without calling the provider again', async () => {
      await api('POST', '/v2/docs/findOrg', { query: '7707083893' });
      const calls = dadata.requests.length;
      const again = await api('POST', '/v2/docs/findOrg', { query: '7707083893' });
      expect(again.status).toBe(200);
      expect(dadata.requests.length).toBe(calls);
    });

    it('404s an INN the provider does not know and 400s a malformed one, naming query', async () => {
      expect((await api('POST', '/v2/docs/findOrg', { query: '7736207543' })).status).toBe(404);
      const bad = await api<{ errors: Record<string, string[]> }>('POST', '/v2/docs/findOrg', { query: '501817999161' });
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.errors)).toEqual(['query']);
      expect((await api('GET', '/v2/docs/findBank')).status).toBe(400);
    });

    it('answers 503 with Retry-After while the provider is down (uncached query)', async () => {
      dadata.setMode('error500');
      const res = await api<{ code: string }>('POST', '/v2/docs/findOrg', { query: '7830002293' });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('LOOKUP_UNAVAILABLE');
      expect(res.headers.get('retry-after')).toBeTruthy();
    });

    it('answers 503 LOOKUP_NOT_CONFIGURED when no API key is set', async () => {
      const keyless = await startContractors({
        ...serviceEnv(),
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: dbUrl,
        DADATA_API_URL: dadata.url,
      });
      try {
        const client = apiClient(baseUrl(keyless), await testToken('acc-main'));
        const res = await client<{ code: string; message: string }>('POST', '/v2/docs/findOrg', { query: INN });
        expect(res.status).toBe(503);
        expect(res.body.code).toBe('LOOKUP_NOT_CONFIGURED');
        expect(res.body.message).toContain('DADATA_API_KEY');
      } finally {
        await keyless.close();
      }
    });
  });

  describe('creating while the provider is down', () => {
    it("fills in the organisation's party and bank a PUT during the outage could not look up, and emits organization.updated", async () => {
      const client = apiClient(gateway.url, await testToken('acc-org-later'));
      // A party and a bank nobody has looked up here, so no cached answer can help.
      const party = dadataFixtures.partyLegal();
      party.value = 'ООО "ПОЗЖЕ"';
      party.data = { ...party.data, inn: '7824001118', kpp: '782401001', ogrn: '1027800000001', address: { value: 'г Санкт-Петербург, Невский пр-кт, д 1' } };
      dadata.addParty(party);
      dadata.setMode('down');
      const put = await client<Record<string, unknown>>('PUT', '/v2/docs/organization', {
        inn: '7824001118',
        name: 'ООО «Позже»',
        bankAccounts: [{ bik: '044525225', number: '40702810938000012345' }],
      });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ name: 'ООО «Позже»', kpp: null, address: null, fullInfo: null, bankAccounts: [{ bik: '044525225', fullInfo: null }] });
      // A retry that meets DaData still down changes nothing a user sees, updatedAt included.
      const db = contractors.get(DataSource);
      await db.query(`UPDATE organization SET lookup_next_at = now() WHERE account_id = 'acc-org-later'`);
      await eventually(async () => {
        const [row] = (await db.query(`SELECT lookup_attempts FROM organization WHERE account_id = 'acc-org-later'`)) as { lookup_attempts: number }[];
        return row!.lookup_attempts >= 1;
      }, 20_000, 100);
      expect((await client<{ updatedAt: string }>('GET', '/v2/docs/organization')).body.updatedAt).toBe(put.body.updatedAt);

      dadata.setMode('ok');
      const filled = await eventually(async () => {
        const got = await client<{ bankAccounts: { fullInfo: unknown }[]; fullInfo: unknown }>('GET', '/v2/docs/organization');
        return got.body.fullInfo && got.body.bankAccounts[0]!.fullInfo ? got.body : null;
      }, 20_000, 100);
      expect(filled).toMatchObject({
        // What the user gave stays; only what was empty is filled in.
        name: 'ООО «Позже»',
        kpp: '782401001',
        ogrn: '1027800000001',
        address: 'г Санкт-Петербург, Невский пр-кт, д 1',
        fullInfo: { value: 'ООО "ПОЗЖЕ"' },
        bankAccounts: [{ bik: '044525225', number: '40702810938000012345', fullInfo: dadataFixtures.bankSber() }],
      });
      const events = await readTopic(
        Topics.contractors,
        (ms) => ms.some((m) => m.key === 'acc-org-later' && (JSON.parse(m.value) as { data: OrganizationSnapshot }).data.bankAccounts[0]?.fullInfo),
        15_000,
      );
      expect(events.filter((m) => m.key === 'acc-org-later').map((m) => (JSON.parse(m.value) as { data: OrganizationSnapshot }).data.kpp)).toEqual([null, '782401001']);
    });

    it("reads the look-ups due through an index, not a scan of every account's contractors and bank accounts", async () => {
      // The claims the worker's passes make (a locking UPDATE; EXPLAIN alone does not run it).
      const q = contractors.get(ContractorsRepository).dueLookupQueries(50, 120_000);
      const db = contractors.get(DataSource);
      const claims = [
        [q.contractors, 'ix_contractor_lookup_queue'],
        [q.banks, 'ix_bank_account_lookup_queue'],
        [contractors.get(OrganizationRepository).dueLookupQuery(20, 120_000), 'ix_organization_lookup_due'],
      ] as const;
      for (const [[sql, params], index] of claims) {
        const plan = await db.transaction(async (m) => {
          // A small test table would be scanned whatever the indexes: ask what the planner can use.
          await m.query('SET LOCAL enable_seqscan = off');
          return ((await m.query(`EXPLAIN ${sql}`, params)) as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
        });
        expect(plan).toContain(index);
        expect(plan).not.toContain('Seq Scan');
      }
    });

    it('asks again a day after DaData did not know the INN (a company registered that day), and fills fullInfo in then', async () => {
      const res = await create({ type: 2, inn: '7802857402', name: 'ООО «Новорег»' });
      expect(res.status).toBe(201);
      const id = res.body.uuid;
      const db = contractors.get(DataSource);
      const [row] = (await db.query(`SELECT lookup_status, lookup_next_at > now() + interval '23 hours' AS tomorrow FROM contractor WHERE id = $1`, [id])) as { lookup_status: string; tomorrow: boolean }[];
      expect(row).toEqual({ lookup_status: 'not_found', tomorrow: true });
      // The registry has it now; a day passes (the look-up is due, the cached "not found" old).
      const party = dadataFixtures.partyLegal();
      party.value = 'ООО "НОВОРЕГ"';
      party.data = { ...party.data, inn: '7802857402', kpp: '780201001', address: { value: 'г Санкт-Петербург, ул Новая, д 1' } };
      dadata.addParty(party);
      await db.query(`UPDATE lookup_cache SET fetched_at = now() - interval '2 hours' WHERE kind = 'party' AND query = '7802857402'`);
      await db.query(`UPDATE contractor SET lookup_next_at = now() WHERE id = $1`, [id]);
      const filled = await eventually(async () => {
        const c = (await get(id)).body;
        return c.fullInfo ? c : null;
      }, 20_000, 100);
      expect(filled).toMatchObject({ mainInfo: { name: 'ООО «Новорег»', address: 'г Санкт-Петербург, ул Новая, д 1' }, fullInfo: { value: 'ООО "НОВОРЕГ"' } });
      await readTopic(Topics.contractors, (ms) => ms.some((m) => m.key === id && m.value.includes('contractor.updated') && m.value.includes('НОВОРЕГ')), 15_000);
    });

    it('creates the contractor at once and fills fullInfo in once the provider is back', async () => {
      // A party the service has never looked up, so no cached answer can help.
      const party = dadataFixtures.partyLegal();
      party.value = 'ПАО ВТБ';
      party.data = { ...party.data, inn: '7702070139', kpp: '784201001', address: { value: 'г Санкт-Петербург, ул Большая Морская, д 29' } };
      dadata.addParty(party);
      dadata.setMode('down');
      const res = await create({ type: 2, inn: '7702070139', name: 'Банк ВТБ (ПАО)' });
      expect(res.status).toBe(201);
      const id = res.body.uuid;
      expect((await get(id)).body.fullInfo).toBeNull();

      dadata.setMode('ok');
      const filled = await eventually(async () => {
        const c = (await get(id)).body;
        return c.fullInfo && c;
      }, 30_000);
      expect(filled.fullInfo).toEqual(party);
      // The address came from the party object, since none was given.
      expect(filled.mainInfo.address).toBe('г Санкт-Петербург, ул Большая Морская, д 29');
      const events = await readTopic(Topics.contractors, (ms) => ms.some((m) => m.key === id && m.value.includes('contractor.updated')), 15_000);
      const updated = events.find((m) => m.key === id && m.value.includes('contractor.updated'));
      expect(JSON.parse(updated!.value).data.fullInfo).toEqual(party);
    });
  });

  describe('paging and filters', () => {
    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        const r = await create({ type: 3, name: `Paging Person ${i}` }, other);
        expect(r.status).toBe(201);
      }
      await create({ type: 1, inn: '500100732259', name: 'ИП Иванов Иван' }, other);
    });

    it('pages with page/size and limit/offset and never mixes accounts', async () => {
      const p1 = await other<ContractorView[]>('GET', '/v2/contractors?page=1&size=3');
      const p2 = await other<ContractorView[]>('GET', '/v2/contractors?page=2&size=3');
      const lo = await other<ContractorView[]>('GET', '/v2/contractors?limit=3&offset=3');
      expect(p1.body).toHaveLength(3);
      expect(p2.body.map((c) => c.uuid)).toEqual(lo.body.map((c) => c.uuid));
      expect(new Set([...p1.body, ...p2.body].map((c) => c.uuid)).size).toBe(6);
      const all = await other<ContractorView[]>('GET', '/v2/contractors?size=200');
      expect(all.body).toHaveLength(8);
      expect((await other('GET', '/v2/contractors?size=201')).status).toBe(400);
    });

    it('filters by name (q, case-insensitive, LIKE characters taken literally) and by inn', async () => {
      const byName = await other<ContractorView[]>('GET', `/v2/contractors?q=${encodeURIComponent('paging person 3')}`);
      expect(byName.body.map((c) => c.mainInfo.name)).toEqual(['Paging Person 3']);
      expect((await other<ContractorView[]>('GET', '/v2/contractors?q=%25')).body).toEqual([]);
      const byInn = await other<ContractorView[]>('GET', '/v2/contractors?inn=500100732259');
      expect(byInn.body.map((c) => c.mainInfo.name)).toEqual(['ИП Иванов Иван']);
    });
  });

  describe('bad input', () => {
    let id: string;
    beforeAll(async () => {
      id = (await create({ type: 2, inn: '7830002293', name: 'ООО Валидация' })).body.uuid;
    });

    const fieldsOf = (body: unknown) => Object.keys((body as { errors?: object }).errors ?? {});

    it('400s an INN with a wrong check digit, naming inn', async () => {
      const res = await create({ type: 2, inn: '7830002294', name: 'x' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 'ERROR', code: 'VALIDATION_FAILED' });
      expect(fieldsOf(res.body)).toEqual(['inn']);
    });

    it('400s an INN whose length does not fit the type', async () => {
      const res = await create({ type: 2, inn: INN, name: 'x' });
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toEqual(['inn']);
    });

    it('400s an account failing the BIK control key, naming number', async () => {
      const res = await api('POST', `/v2/docs/contractors/${id}/bank`, { bik: BIK, number: '40802810220000499328' });
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toEqual(['number']);
      const badBik = await api('POST', `/v2/docs/contractors/${id}/bank`, { bik: '12345', number: ACCOUNT });
      expect(fieldsOf(badBik.body)).toEqual(['bik']);
    });

    it('400s a bad type, email and phone, and unknown fields, naming each', async () => {
      expect(fieldsOf((await create({ type: 7, name: 'x' })).body)).toEqual(['type']);
      expect(fieldsOf((await create({ type: 'IndividualEntrepreneur', name: 'x' })).body)).toEqual(['type']);
      const contact = await api('POST', `/v2/docs/contractors/${id}/contact`, { fio: 'A', email: 'nope', phone: '12' });
      expect(contact.status).toBe(400);
      expect(fieldsOf(contact.body).sort()).toEqual(['email', 'phone']);
      const extra = await create({ type: 3, name: 'x', admin: true });
      expect(extra.status).toBe(400);
      expect(fieldsOf(extra.body)).toEqual(['admin']);
    });

    it('400s malformed JSON', async () => {
      const res = await api('POST', '/v2/docs/contractors', undefined, {
        raw: '{"type": 1,',
        headers: { 'content-type': 'application/json' },
      });
      expect(res).toMatchObject({ status: 400, body: { status: 'ERROR', code: 'MALFORMED_JSON' } });
    });

    it('401s without a token and with a bad one', async () => {
      expect((await anonymous('GET', '/v2/contractors')).status).toBe(401);
      const forged = apiClient(gateway.url, 'eyJhbGciOiJIUzI1NiJ9.eyJhY2MiOiJ4In0.c2lnbmF0dXJl');
      const res = await forged('GET', '/v2/contractors');
      expect(res).toMatchObject({ status: 401, body: { status: 'ERROR', code: 'UNAUTHORIZED' } });
      // The service itself also refuses a request that skipped the gateway without a token.
      expect((await apiClient(baseUrl(contractors))('GET', '/v2/contractors')).status).toBe(401);
    });

    it("404s another account's contractor on every route", async () => {
      expect((await get(id, other)).status).toBe(404);
      expect((await other('DELETE', `/v2/docs/contractors/${id}`)).status).toBe(404);
      expect((await other('POST', `/v2/docs/contractors/${id}/contact`, { fio: 'x' })).status).toBe(404);
      expect((await other('POST', `/v2/docs/contractors/${id}/bank`, { bik: BIK, number: ACCOUNT })).status).toBe(404);
      expect((await get(id)).status).toBe(200);
    });

    it('409s a duplicate INN within an account, but allows it in another', async () => {
      const dup = await create({ type: 2, inn: '7830002293', name: 'again' });
      expect(dup).toMatchObject({ status: 409, body: { code: 'DUPLICATE_INN', errors: { inn: expect.any(Array) } } });
      expect((await create({ type: 2, inn: '7830002293', name: 'elsewhere' }, other)).status).toBe(201);
    });

    it('413s an oversized body', async () => {
      const res = await create({ type: 3, name: 'x', address: 'a'.repeat(100 * 1024) });
      expect(res).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    });

    it('400s a malformed id', async () => {
      const res = await api('GET', '/v2/docs/contractors/not-a-uuid');
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toEqual(['id']);
    });

    it('never answers 500 to odd input', async () => {
      const odd: [string, string, unknown][] = [
        ['POST', '/v2/docs/contractors', []],
        ['POST', '/v2/docs/contractors', null],
        ['POST', '/v2/docs/contractors', 'text'],
        ['POST', '/v2/docs/contractors', { type: null, name: null, inn: 5 }],
        ['POST', '/v2/docs/contractors', { type: 1, name: 'x'.repeat(501) }],
        ['POST', '/v2/docs/contractors', { type: 1, name: '\u0000', inn: '０１２３４５６７８９' }],
        ['POST', '/v2/docs/findOrg', { query: { $gt: '' } }],
        ['GET', '/v2/contractors?page=-1', undefined],
        ['GET', '/v2/contractors?size=abc', undefined],
        ['GET', '/v2/contractors?q[]=a&q[]=b', undefined],
        ['DELETE', `/v2/docs/contractors/${id}/bank`, { id: 'nope' }],
        ['DELETE', `/v2/docs/contractors/${id}/bank`, undefined],
        ['POST', `/v2/docs/contractors/${id}/bank`, { bik: 44525104, number: 1 }],
      ];
      for (const [method, path, body] of odd) {
        const res = await api(method, path, body);
        expect({ method, path, status: res.status < 500 ? 'not 5xx' : res.status }).toEqual({ method, path, status: 'not 5xx' });
      }
    });
  });

  describe('organization (seller requisites, additive)', () => {
    it('is filled in from the INN look-up, keeps bank accounts with the bank object, and emits organization.updated', async () => {
      const client = apiClient(gateway.url, await testToken('acc-org'));
      expect((await client('GET', '/v2/docs/organization')).status).toBe(404);
      const put = await client<Record<string, unknown>>('PUT', '/v2/docs/organization', {
        inn: INN,
        bankAccounts: [{ bik: BIK, number: ACCOUNT }],
      });
      expect(put.status).toBe(200);
      const got = await client<Record<string, unknown>>('GET', '/v2/docs/organization');
      expect(got.body).toMatchObject({
        inn: INN,
        name: 'ИП Артиков Тимур Дилшодович',
        ogrn: '324508100678148',
        address: 'Московская обл, г Щёлково',
        director: 'Артиков Тимур Дилшодович',
        bankAccounts: [{ bik: BIK, number: ACCOUNT, name: 'Расчетный счёт', fullInfo: dadataFixtures.bankTochka() }],
      });
      const events = await readTopic(Topics.contractors, (ms) => ms.some((m) => m.key === 'acc-org'), 15_000);
      const updated = events.find((m) => m.key === 'acc-org');
      expect(JSON.parse(updated!.value)).toMatchObject({ type: 'organization.updated', data: { inn: INN, accountId: 'acc-org' } });
    });

    it('keeps a default VAT for its documents: set, kept when omitted, cleared by null, 400 for anything else', async () => {
      const client = apiClient(gateway.url, await testToken('acc-org-vat'));
      const set = await client<Record<string, unknown>>('PUT', '/v2/docs/organization', { inn: INN, vatRate: 'none' });
      expect(set.status).toBe(200);
      expect(set.body.vatRate).toBe('none');
      const events = await readTopic(Topics.contractors, (ms) => ms.some((m) => m.key === 'acc-org-vat'), 15_000);
      expect(JSON.parse(events.find((m) => m.key === 'acc-org-vat')!.value)).toMatchObject({ type: 'organization.updated', data: { vatRate: 'none' } });
      expect((await client<Record<string, unknown>>('PUT', '/v2/docs/organization', { inn: INN, address: 'г. Щёлково' })).body.vatRate).toBe('none');
      expect((await client<Record<string, unknown>>('GET', '/v2/docs/organization')).body).toMatchObject({ vatRate: 'none', address: 'г. Щёлково' });
      expect((await client<Record<string, unknown>>('PUT', '/v2/docs/organization', { inn: INN, vatRate: null })).body.vatRate).toBeNull();
      for (const bad of ['18', 22, 'NONE', '']) {
        const refused = await client<{ errors: object }>('PUT', '/v2/docs/organization', { inn: INN, vatRate: bad });
        expect(refused.status).toBe(400);
        expect(Object.keys(refused.body.errors)).toEqual(['vatRate']);
      }
      expect((await client<Record<string, unknown>>('GET', '/v2/docs/organization')).body.vatRate).toBeNull();
    });

    it('refuses (409) a PUT whose slow look-up ends after a later PUT was saved, and keeps the later one', async () => {
      const client = apiClient(gateway.url, await testToken('acc-org-race'));
      expect((await client('PUT', '/v2/docs/organization', { inn: INN, name: 'Первое имя' })).status).toBe(200);
      // An INN nobody has looked up yet, so the first PUT waits on DaData (here until its 1 s time-out).
      const uncached = '5001007329';
      dadata.setMode('slow');
      const sent = dadata.requests.length;
      const slow = client<{ code: string }>('PUT', '/v2/docs/organization', { inn: uncached, name: 'Опечатка' });
      await eventually(async () => dadata.requests.slice(sent).some((r) => (r.body as { query?: string }).query === uncached), 5_000, 10);
      dadata.setMode('ok');
      // The user corrects it meanwhile; this INN's look-up is cached, so this one is saved at once.
      const later = await client<Record<string, unknown>>('PUT', '/v2/docs/organization', { inn: INN, name: 'Исправленное имя' });
      expect(later.status).toBe(200);
      const first = await slow;
      expect(first.status).toBe(409);
      expect(first.body.code).toBe('ORGANIZATION_CHANGED');
      expect((await client<Record<string, unknown>>('GET', '/v2/docs/organization')).body).toMatchObject({ inn: INN, name: 'Исправленное имя' });
    });

    it('400s a bad KPP or bank account, naming the field', async () => {
      const client = apiClient(gateway.url, await testToken('acc-org'));
      const badKpp = await client<{ errors: object }>('PUT', '/v2/docs/organization', { inn: INN, kpp: '12' });
      expect(badKpp.status).toBe(400);
      expect(Object.keys(badKpp.body.errors)).toEqual(['kpp']);
      const badAccount = await client<{ errors: object }>('PUT', '/v2/docs/organization', {
        inn: INN,
        bankAccounts: [{ bik: BIK, number: '40802810220000499328' }],
      });
      expect(Object.keys(badAccount.body.errors)).toEqual(['bankAccounts.0.number']);
    });

    it('is re-announced by the announce command: one organization.updated per account, with the snapshot', async () => {
      // Accounts of this run only: the topic keeps earlier runs' events.
      const accounts = [`acc-announce-${randomUUID()}`, `acc-announce-${randomUUID()}`];
      const views: Record<string, unknown>[] = [];
      for (const [n, accountId] of accounts.entries()) {
        const client = apiClient(gateway.url, await testToken(accountId));
        expect((await client('PUT', '/v2/docs/organization', { inn: INN, name: `Продавец ${n}`, bankAccounts: [{ bik: BIK, number: ACCOUNT }] })).status).toBe(200);
        views.push((await client<Record<string, unknown>>('GET', '/v2/docs/organization')).body);
      }
      const buyer = await apiClient(gateway.url, await testToken(accounts[0]!))<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 3, name: 'Покупатель' });
      expect(buyer.status).toBe(201);
      const ours = (ms: { key: string | null; value: string }[], accountId: string) =>
        ms.filter((m) => m.key === accountId).map((m) => JSON.parse(m.value) as EventEnvelope<OrganizationSnapshot>);
      // The PUTs' own events first, so that what follows is the command's.
      await readTopic(Topics.contractors, (ms) => accounts.every((a) => ours(ms, a).length === 1), 15_000);

      const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'apps/contractors/src/announce.ts'], {
        cwd: REPO_ROOT,
        env: serviceEnv({ DATABASE_URL: dbUrl }),
      });
      const [{ n: contractorCount }] = await contractors.get(DataSource).query('SELECT count(*)::int AS n FROM contractor');
      const [{ n: organizationCount }] = await contractors.get(DataSource).query('SELECT count(*)::int AS n FROM organization');
      expect(organizationCount).toBeGreaterThanOrEqual(2);
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ msg: 'contractors announced', count: contractorCount + organizationCount });

      const events = await readTopic(
        Topics.contractors,
        (ms) => accounts.every((a) => ours(ms, a).length >= 2) && ms.some((m) => m.key === buyer.body.uuid && m.value.includes('contractor.snapshot')),
        30_000,
      );
      for (const [n, accountId] of accounts.entries()) {
        const [put, announced] = ours(events, accountId);
        expect(ours(events, accountId)).toHaveLength(2);
        expect(announced!.id).not.toBe(put!.id);
        expect(announced).toMatchObject({ type: 'organization.updated', version: 1, accountId, aggregateId: accountId });
        // The same snapshot the PUT published: what GET answers, plus the account.
        expect(announced!.data).toEqual({ ...views[n], accountId });
        expect(announced!.data).toEqual(put!.data);
      }
      const snapshot = events.find((m) => m.key === buyer.body.uuid && m.value.includes('contractor.snapshot'));
      expect(JSON.parse(snapshot!.value)).toMatchObject({ accountId: accounts[0], data: { uuid: buyer.body.uuid, mainInfo: { name: 'Покупатель' } } });

      // A page per account: every organisation once more, none twice, none left out.
      const perAccount = () =>
        contractors.get(DataSource).query(`SELECT key, count(*)::int AS n FROM outbox WHERE event_type = 'organization.updated' GROUP BY key ORDER BY key`) as Promise<{ key: string; n: number }[]>;
      const before = await perAccount();
      expect(before).toHaveLength(organizationCount);
      expect(await announceOrganizations(contractors.get(DataSource), 1)).toBe(organizationCount);
      expect(await perAccount()).toEqual(before.map(({ key, n }) => ({ key, n: n + 1 })));
    }, 90_000);
  });

  describe('Kafka outage', () => {
    it('keeps accepting changes while the broker is down and publishes every one once it is back', async () => {
      await infra('down', 'kafka');
      const ids: string[] = [];
      try {
        for (let i = 0; i < 5; i++) {
          const res = await create({ type: 3, name: `Outage ${i}` });
          expect(res.status).toBe(201);
          ids.push(res.body.uuid);
        }
        const pending = await contractors.get(DataSource).query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
        expect(pending[0].n).toBeGreaterThanOrEqual(5);
      } finally {
        await infra('up', 'kafka');
      }
      const events = await readTopic(
        Topics.contractors,
        (ms) => ids.every((id) => ms.some((m) => m.key === id)),
        90_000,
      );
      for (const id of ids) {
        // At-least-once on the wire; one event (one id) per change, which consumers dedupe on.
        const created = events.filter((m) => m.key === id && m.value.includes('contractor.created'));
        expect(created.length).toBeGreaterThanOrEqual(1);
        expect(new Set(created.map((m) => JSON.parse(m.value).id)).size).toBe(1);
      }
      const pending = await contractors.get(DataSource).query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
      expect(pending[0].n).toBe(0);
    });
  });
});
