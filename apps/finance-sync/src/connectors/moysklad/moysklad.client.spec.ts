import { startFakeMoysklad, type FakeMoysklad } from '@papka/testing';
import { MoyskladClient, MoyskladError } from './moysklad.client';
import { MoyskladLimiter } from './moysklad.limiter';

describe('MoyskladClient against the fake MoySklad', () => {
  let fake: FakeMoysklad;
  let client: MoyskladClient;
  const open = (token: string) => new MoyskladClient(fake.url, token, 2_000, new MoyskladLimiter({ limit: 45, windowMs: 3_000 }));

  beforeEach(async () => {
    fake = await startFakeMoysklad();
    client = open(fake.token);
  });
  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  const failureOf = async (p: Promise<unknown>): Promise<MoyskladError> => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MoyskladError);
    return err as MoyskladError;
  };

  it('sends Accept-Encoding: gzip and the Bearer token, and reads the gzipped answer', async () => {
    const list = await client.get<{ rows: unknown[] }>('/entity/organization');
    expect(list.rows).toHaveLength(1);
    expect(fake.calls({ outcome: 'no-gzip' })).toHaveLength(0);
  });

  it('reads the failure kind from the errors[] body', async () => {
    const bad = open('wrong-token');
    expect(await failureOf(bad.get('/entity/organization'))).toMatchObject({ failure: 'unauthorized', status: 401, code: 1056 });
    await bad.close();

    const refused = await failureOf(client.post('/entity/paymentout', { sum: 1 }));
    expect(refused).toMatchObject({ failure: 'rejected', status: 412, code: 3000 });
    expect(refused.message).toContain('organization');

    for (const code of [1043, 1070, 30006] as const) {
      fake.setTariffBlock(code);
      expect(await failureOf(client.get('/entity/organization'))).toMatchObject({ failure: 'payment_required', code });
    }
    fake.setTariffBlock(null);
  });

  it('takes the wait of a 429 from X-Lognex-Retry-After', async () => {
    fake.setRateLimit({ limit: 1, windowMs: 60_000 });
    await client.get('/entity/organization');
    // A second client on the same token, as another process would be, runs into MoySklad's 429.
    const other = open(fake.token);
    const limited = await failureOf(other.get('/entity/organization'));
    expect(limited).toMatchObject({ failure: 'rate_limited', status: 429, code: 1049 });
    expect(limited.retryAfterMs).toBeGreaterThan(50_000);
    await other.close();
  });

  it('calls a write whose socket was reset after commit an unknown outcome, and a read of a 5xx unavailable', async () => {
    fake.setCommitThenDrop(1);
    expect(await failureOf(client.post('/entity/counterparty', { name: 'ООО' }))).toMatchObject({ failure: 'outcome_unknown' });
    expect(fake.counterparties()).toHaveLength(1);
    fake.clearFaults();
    fake.setServerErrors(1);
    expect(await failureOf(client.get('/entity/counterparty'))).toMatchObject({ failure: 'unavailable', status: 500 });
    expect(await failureOf(client.post('/entity/counterparty', { name: 'ООО' }))).toMatchObject({ failure: 'outcome_unknown', status: 500 });
  });
});
