import { dadataFixtures, startFakeDadata, type FakeDadata } from '@papka/testing';
import { DadataClient, ProviderNotConfiguredError, ProviderUnavailableError } from './dadata.client';

describe(DadataClient.name, () => {
  let fake: FakeDadata;
  let sut: DadataClient;

  beforeAll(async () => {
    fake = await startFakeDadata();
    sut = new DadataClient({ baseUrl: fake.url, apiKey: fake.apiKey, timeoutMs: 500 });
  });
  afterAll(async () => {
    await sut.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('returns the first party suggestion, sending the key as "Token <key>"', async () => {
    await expect(sut.findParty('501817999160')).resolves.toEqual(dadataFixtures.partyIndividual());
    expect(fake.requests[0]).toMatchObject({ path: expect.stringMatching(/\/findById\/party$/), body: { query: '501817999160' } });
    expect(fake.requests[0].headers.authorization).toBe(`Token ${fake.apiKey}`);
  });

  it('returns the bank suggestion for a BIK', async () => {
    await expect(sut.findBank('044525104')).resolves.toEqual(dadataFixtures.bankTochka());
  });

  it('returns null when the provider knows nothing', async () => {
    await expect(sut.findParty('7736207543')).resolves.toBeNull();
  });

  it.each([
    ['error500', /HTTP 500/],
    ['down', /unreachable/],
    ['slow', /unreachable/],
  ] as const)('reports the provider unavailable when it is %s', async (mode, message) => {
    fake.setMode(mode);
    const err = await sut.findParty('501817999160').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect((err as Error).message).toMatch(message);
  });

  it('passes on a rate limit with a retry hint', async () => {
    fake.setMode('rate-limited');
    const err = (await sut.findParty('501817999160').catch((e: unknown) => e)) as ProviderUnavailableError;
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('reports a rejected key as unavailable, naming the status', async () => {
    const wrongKey = new DadataClient({ baseUrl: fake.url, apiKey: 'wrong', timeoutMs: 500 });
    await expect(wrongKey.findParty('501817999160')).rejects.toThrow(/rejected the API key \(HTTP 401\)/);
    await wrongKey.close();
  });

  it('refuses to call without a key', async () => {
    const keyless = new DadataClient({ baseUrl: fake.url, timeoutMs: 500 });
    expect(keyless.configured).toBe(false);
    await expect(keyless.findParty('501817999160')).rejects.toBeInstanceOf(ProviderNotConfiguredError);
    await keyless.close();
  });
});
