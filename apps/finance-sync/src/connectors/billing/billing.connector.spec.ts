import { runInNewContext } from 'node:vm';
import { startFakeBilling, type FakeBilling } from '@papka/testing';
import { ConnectorError, InvalidSettings } from '../connector';
import { BillingConnector, parseBillingSettings } from './billing.connector';

describe(BillingConnector.name, () => {
  let fake: FakeBilling;
  let sut: BillingConnector;
  const allowed = (f: FakeBilling) => [new URL(f.url).host];
  const connector = (f: FakeBilling, token = f.token, allowedHosts = allowed(f)) =>
    (sut = new BillingConnector({ token, settings: { baseUrl: f.url }, timeoutMs: 2000, allowedHosts }));

  afterEach(async () => {
    await sut?.close();
    await fake?.close();
  });

  it('checks with one page of size 1 and answers the settings', async () => {
    fake = await startFakeBilling({ documents: 5 });
    await expect(connector(fake).check({ baseUrl: `${fake.url}/` })).resolves.toEqual({ baseUrl: fake.url });
    expect(fake.requests().map((r) => [r.page, r.size, r.authorized])).toEqual([[1, 1, true]]);
  });

  it('refuses a base URL the guard refuses, naming settings.baseUrl, and calls nothing', async () => {
    fake = await startFakeBilling({ documents: 5 });
    const c = connector(fake, fake.token, []);
    for (const baseUrl of [fake.url, 'http://169.254.169.254', 'https://10.0.0.7', 'https://127.0.0.1:443']) {
      await expect(c.check({ baseUrl })).rejects.toMatchObject({ name: 'InvalidSettings', field: 'settings.baseUrl' });
    }
    expect(fake.requests()).toEqual([]);
    expect(() => parseBillingSettings({})).toThrow(InvalidSettings);
    expect(() => parseBillingSettings({ baseUrl: 'nope' })).toThrow(/settings.baseUrl must be a URL/);
  });

  it('a refused token is unauthorized, a 5xx is unavailable', async () => {
    fake = await startFakeBilling({ documents: 5 });
    await expect(connector(fake, 'wrong').probe()).rejects.toMatchObject({ failure: 'unauthorized' });
    await sut.close();
    fake.failRequest(1, 500);
    await expect(connector(fake).page({ page: 1, size: 10 })).rejects.toMatchObject({ failure: 'unavailable' });
    fake.failRequest(1, 'reset');
    await expect(sut.page({ page: 1, size: 10 })).rejects.toBeInstanceOf(ConnectorError);
    expect((await sut.page({ page: 1, size: 10 })).documents).toHaveLength(5);
  });

  it('drops the trailing slashes of a base URL in one pass, however many there are', () => {
    expect(parseBillingSettings({ baseUrl: 'https://billing.example.com/api///' })).toEqual({ baseUrl: 'https://billing.example.com/api' });
    // Under vm's watchdog: `\/+$` tried every slash to the end (255,000 of them, in a PUT's body limit, took 50 s).
    const long = { baseUrl: `https://billing.example.com/${'/'.repeat(255_000)}x` };
    const parsed = runInNewContext('parse()', { parse: () => parseBillingSettings(long) }, { timeout: 10_000 }) as { baseUrl: string };
    expect(parsed.baseUrl.endsWith('/x')).toBe(true);
  });

  it('finds the page base, 1 or 0', async () => {
    fake = await startFakeBilling({ documents: 5, pageBase: 1 });
    await expect(connector(fake).pageBase()).resolves.toBe(1);
    await sut.close();
    await fake.close();
    fake = await startFakeBilling({ documents: 5, pageBase: 0 });
    await expect(connector(fake).pageBase()).resolves.toBe(0);
    await sut.close();
    await fake.close();
    fake = await startFakeBilling({ documents: 1, pageBase: 0 });
    await expect(connector(fake).pageBase()).resolves.toBe(0);
    await sut.close();
    await fake.close();
    // A 1-based billing that fails on page 0 with a 500: 1 (it used to stop every run as unavailable).
    fake = await startFakeBilling({ documents: 5, pageBase: 1, belowBase: 500 });
    await expect(connector(fake).pageBase()).resolves.toBe(1);
  });

  it('finds the page base when the newest documents share a second and come in another order each time', async () => {
    // A 1-based billing that answers page 0 as page 1: two different documents of one second
    // on pages 0 and 1 made it look 0-based, so every run read page 1 twice and missed its last page.
    fake = await startFakeBilling({ documents: 20, pageBase: 1, belowBase: 'first' });
    fake.addDocuments(12);
    fake.setTieOrder('shuffled');
    for (let i = 0; i < 5; i++) await expect(connector(fake).pageBase()).resolves.toBe(1);
    await sut.close();
    await fake.close();
    fake = await startFakeBilling({ documents: 20, pageBase: 0 });
    fake.addDocuments(12);
    fake.setTieOrder('shuffled');
    for (let i = 0; i < 5; i++) await expect(connector(fake).pageBase()).resolves.toBe(0);
  });

  it('finds the page base when the newest documents are ones the parser sets aside (a status 001 does not list)', async () => {
    for (const pageBase of [0, 1] as const) {
      fake = await startFakeBilling({ documents: 5, pageBase });
      for (const id of ['90001', '90002']) fake.insert({ id, type: 'BILL', status: 'CANCELLED', title: 'x', date: '2099-01-01 00:00:0' + id.slice(-1), vatSum: 0, totalSum: 100, balanceSum: 100, items: [], relations: [] });
      const page = await connector(fake).page({ page: pageBase, size: 2 });
      expect([page.documents.length, page.rejected.length]).toEqual([0, 2]);
      await expect(connector(fake).pageBase()).resolves.toBe(pageBase);
      await sut.close();
      await fake.close();
    }
    fake = await startFakeBilling({ documents: 1 });
  });
});
