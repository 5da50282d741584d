import { LookupUnavailableError, NotFoundError } from '@papka/platform';
import type { ContractorsConfig } from '../config';
import { ProviderUnavailableError, type Suggestion } from './dadata.client';
import type { LookupCacheRepository } from './lookup-cache.repository';
import { LookupService } from './lookup.service';

const INN = '7707083893';
const HOUR = 3_600_000;

/** The service over a cache holding one answer of `ageMs`, and a provider that is down. */
function withCached(payload: Suggestion | null, ageMs: number) {
  const cache = {
    find: async () => ({ kind: 'party', query: INN, payload, fetchedAt: new Date(Date.now() - ageMs) }),
    put: async () => undefined,
  } as unknown as LookupCacheRepository;
  const sut = new LookupService({ DADATA_API_URL: 'http://127.0.0.1:1', DADATA_API_KEY: 'key', DADATA_TIMEOUT_MS: 100, DADATA_CACHE_TTL_SECONDS: 86_400 } as ContractorsConfig, cache);
  const down = jest.spyOn(sut.client, 'findParty').mockRejectedValue(new ProviderUnavailableError('DaData is down', 30));
  return { sut, down };
}

describe(LookupService.name, () => {
  it('serves a stale found answer while the provider is down', async () => {
    const { sut, down } = withCached({ value: 'ПАО Сбербанк' }, 2 * 86_400_000);
    await expect(sut.findOrg(INN)).resolves.toEqual({ value: 'ПАО Сбербанк' });
    expect(down).toHaveBeenCalledTimes(1);
  });

  it('does not serve an expired "not found" while the provider is down: findOrg is a 503, the lookup stays to be done', async () => {
    const { sut } = withCached(null, 2 * HOUR);
    await expect(sut.findOrg(INN)).rejects.toBeInstanceOf(LookupUnavailableError);
    await expect(sut.party(INN)).rejects.toBeInstanceOf(ProviderUnavailableError);
  });

  it('still answers a fresh "not found" from the cache with a 404, without asking the provider', async () => {
    const { sut, down } = withCached(null, 60_000);
    await expect(sut.findOrg(INN)).rejects.toBeInstanceOf(NotFoundError);
    expect(down).not.toHaveBeenCalled();
  });
});
