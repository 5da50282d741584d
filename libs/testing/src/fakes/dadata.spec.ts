import { isValidAccountForBik, isValidBik, isValidInn } from '@papka/ru';
import {
  dadataFixtures,
  FAKE_DADATA_API_KEY,
  FIXTURE_ACCOUNT_NUMBER,
  FIXTURE_BIK,
  FIXTURE_INN,
  startFakeDadata,
  type FakeDadata,
} from './dadata';

const FETCH_FAILED = { name: 'TypeError', message: 'fetch failed' };

interface SuggestionsResponse {
  suggestions: { value: string; data: Record<string, unknown> }[];
}

describe(startFakeDadata.name, () => {
  let sut: FakeDadata;

  beforeAll(async () => {
    sut = await startFakeDadata();
  });

  afterEach(() => sut.reset());

  afterAll(() => sut.close());

  function post(method: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
    return fetch(`${sut.url}${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Token ${FAKE_DADATA_API_KEY}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal,
    });
  }

  async function suggestions(method: string, body: unknown): Promise<SuggestionsResponse['suggestions']> {
    const res = await post(method, body);
    expect(res.status).toBe(200);
    return ((await res.json()) as SuggestionsResponse).suggestions;
  }

  it('serves under the DaData suggestions path on loopback', () => {
    expect(sut.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/suggestions\/api\/4_1\/rs$/);
  });

  describe('findById/party', () => {
    it('returns the recorded ИП suggestion for INN 501817999160', async () => {
      const found = await suggestions('/findById/party', { query: '501817999160' });
      expect(found).toEqual([dadataFixtures.partyIndividual()]);
      expect(found[0].value).toBe('ИП Артиков Тимур Дилшодович');
      expect(found[0].data).toMatchObject({ type: 'INDIVIDUAL', ogrn: '324508100678148' });
    });

    it('finds by OGRN as well', async () => {
      const found = await suggestions('/findById/party', { query: '1027700132195' });
      expect(found.map((s) => s.data.inn)).toEqual(['7707083893']);
    });

    it('returns the legal entity with its KPP and address', async () => {
      const [sber] = await suggestions('/findById/party', { query: '7707083893' });
      expect(sber.value).toBe('ПАО СБЕРБАНК');
      expect(sber.data).toMatchObject({ type: 'LEGAL', kpp: '773601001', ogrn: '1027700132195' });
      expect(sber.data.address).toMatchObject({ value: 'г Москва, ул Вавилова, д 19' });
    });

    it('narrows by kpp and type', async () => {
      expect(await suggestions('/findById/party', { query: '7707083893', kpp: '773601001' })).toHaveLength(1);
      expect(await suggestions('/findById/party', { query: '7707083893', kpp: '540602001' })).toEqual([]);
      expect(await suggestions('/findById/party', { query: '7707083893', type: 'INDIVIDUAL' })).toEqual([]);
    });

    it('answers an empty list for an unknown INN', async () => {
      expect(await suggestions('/findById/party', { query: '7830002293' })).toEqual([]);
    });

    it('serves parties added at runtime', async () => {
      const party = { value: 'ООО «РОМАШКА»', unrestricted_value: 'ООО «РОМАШКА»', data: { inn: '7830002293', type: 'LEGAL' } };
      const local = await startFakeDadata();
      try {
        local.addParty(party);
        const res = await fetch(`${local.url}/findById/party`, {
          method: 'POST',
          headers: { Authorization: `Token ${local.apiKey}` },
          body: JSON.stringify({ query: '7830002293' }),
        });
        expect(await res.json()).toEqual({ suggestions: [party] });
      } finally {
        await local.close();
      }
    });
  });

  describe('findById/bank', () => {
    it('returns the recorded Банк Точка suggestion for BIK 044525104', async () => {
      const found = await suggestions('/findById/bank', { query: '044525104' });
      expect(found).toEqual([dadataFixtures.bankTochka()]);
      expect(found[0].data).toMatchObject({ correspondent_account: '30101810745374525104' });
    });

    it('returns Сбербанк for BIK 044525225', async () => {
      const [sber] = await suggestions('/findById/bank', { query: '044525225' });
      expect(sber.value).toBe('ПАО Сбербанк');
      expect(sber.data).toMatchObject({ bic: '044525225', correspondent_account: '30101810400000000225' });
    });

    it('answers an empty list for an unknown BIK', async () => {
      expect(await suggestions('/findById/bank', { query: '049805746' })).toEqual([]);
    });

    it('serves banks added at runtime', async () => {
      const local = await startFakeDadata({ apiKey: 'other-key' });
      try {
        local.addBank({ value: 'Банк', unrestricted_value: 'Банк', data: { bic: '049805746' } });
        const res = await fetch(`${local.url}/findById/bank`, {
          method: 'POST',
          headers: { Authorization: 'Token other-key' },
          body: JSON.stringify({ query: '049805746' }),
        });
        const body = (await res.json()) as SuggestionsResponse;
        expect(body.suggestions.map((s) => s.data.bic)).toEqual(['049805746']);
      } finally {
        await local.close();
      }
    });
  });

  it('records requests with path, parsed body and headers', async () => {
    await post('/findById/party', { query: '501817999160' });
    expect(sut.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/suggestions/api/4_1/rs/findById/party',
        body: { query: '501817999160' },
        headers: expect.objectContaining({ authorization: `Token ${FAKE_DADATA_API_KEY}` }),
      }),
    ]);
  });

  it('does not let callers mutate the served fixtures', async () => {
    const [first] = await suggestions('/findById/bank', { query: '044525104' });
    first.data.bic = 'changed';
    const [second] = await suggestions('/findById/bank', { query: '044525104' });
    expect(second.data.bic).toBe('044525104');
  });

  describe('errors', () => {
    it.each([
      ['missing', {}],
      ['wrong', { Authorization: 'Token nope' }],
      ['non-Token scheme', { Authorization: `Bearer ${FAKE_DADATA_API_KEY}` }],
    ])('401 for a %s API key', async (_, headers) => {
      const res = await fetch(`${sut.url}/findById/party`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: '501817999160' }),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ reason: 'Unauthorized' });
    });

    it('405 for a non-POST method', async () => {
      const res = await fetch(`${sut.url}/findById/party`, {
        headers: { Authorization: `Token ${FAKE_DADATA_API_KEY}` },
      });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    });

    it('404 for an unknown method', async () => {
      expect((await post('/findById/fns_unit', { query: 'x' })).status).toBe(404);
    });

    it.each([
      ['invalid JSON', '{"query":'],
      ['a non-object body', '["501817999160"]'],
      ['a missing query', {}],
      ['a blank query', { query: '  ' }],
    ])('400 for %s', async (_, body) => {
      const res = await post('/findById/party', body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
    });
  });

  describe('modes', () => {
    it('rate-limited answers 429', async () => {
      sut.setMode('rate-limited');
      expect((await post('/findById/party', { query: '501817999160' })).status).toBe(429);
    });

    it('error500 answers 500', async () => {
      sut.setMode('error500');
      expect((await post('/findById/party', { query: '501817999160' })).status).toBe(500);
    });

    it('down resets the connection, but still records the attempt', async () => {
      sut.setMode('down');
      // fetch's TypeError comes from Node's realm, not Jest's, so match by shape.
      await expect(post('/findById/party', { query: '501817999160' })).rejects.toMatchObject(FETCH_FAILED);
      expect(sut.requests).toHaveLength(1);
    });

    it('slow outlasts a client timeout', async () => {
      sut.setMode('slow');
      const started = Date.now();
      await expect(
        post('/findById/party', { query: '501817999160' }, {}, AbortSignal.timeout(200)),
      ).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('slow eventually answers normally', async () => {
      const local = await startFakeDadata({ slowMs: 100 });
      try {
        local.setMode('slow');
        const started = Date.now();
        const res = await fetch(`${local.url}/findById/bank`, {
          method: 'POST',
          headers: { Authorization: `Token ${local.apiKey}` },
          body: JSON.stringify({ query: '044525225' }),
        });
        expect(res.status).toBe(200);
        expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      } finally {
        await local.close();
      }
    });

    it('close() does not wait for requests held by slow mode', async () => {
      const local = await startFakeDadata();
      local.setMode('slow');
      const pending = fetch(`${local.url}/findById/party`, {
        method: 'POST',
        headers: { Authorization: `Token ${local.apiKey}` },
        body: JSON.stringify({ query: '501817999160' }),
      });
      await waitFor(() => local.requests.length === 1);
      const started = Date.now();
      await local.close();
      expect(Date.now() - started).toBeLessThan(1_000);
      await expect(pending).rejects.toMatchObject(FETCH_FAILED);
    });

    it('hold() keeps the requests it matches unanswered, the others not, until released', async () => {
      const release = sut.hold((r) => (r.body as { query?: string }).query === '501817999160');
      let answered = false;
      const held = post('/findById/party', { query: '501817999160' }).then((res) => ((answered = true), res));
      await waitFor(() => sut.requests.length === 1);
      // Another query goes through meanwhile.
      expect((await post('/findById/party', { query: '7707083893' })).status).toBe(200);
      expect(answered).toBe(false);
      release();
      expect((await held).status).toBe(200);
      expect(sut.requests.map((r) => (r.body as { query: string }).query)).toEqual(['501817999160', '7707083893']);
    });

    it('reset() returns to ok and clears the log', async () => {
      sut.setMode('error500');
      await post('/findById/party', { query: '501817999160' });
      sut.reset();
      expect(sut.requests).toEqual([]);
      expect((await post('/findById/party', { query: '501817999160' })).status).toBe(200);
    });
  });

  it('answers the fixture requisites, which pass their checksums', async () => {
    expect(await suggestions('/findById/party', { query: FIXTURE_INN })).toEqual([dadataFixtures.partyIndividual()]);
    expect(await suggestions('/findById/bank', { query: FIXTURE_BIK })).toEqual([dadataFixtures.bankTochka()]);
    expect([isValidInn(FIXTURE_INN), isValidBik(FIXTURE_BIK), isValidAccountForBik(FIXTURE_ACCOUNT_NUMBER, FIXTURE_BIK)]).toEqual([true, true, true]);
  });

  it('close() is idempotent', async () => {
    const local = await startFakeDadata();
    await Promise.all([local.close(), local.close()]);
    await expect(local.close()).resolves.toBeUndefined();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
