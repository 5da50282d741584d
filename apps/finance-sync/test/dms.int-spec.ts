import { randomBytes, randomUUID } from 'node:crypto';
import { Topics, type ConnectionView, type ContractorSnapshot, type DocumentSnapshot, type OrganizationSnapshot } from '@papka/contracts';
import { Buckets } from '@papka/platform';
import { MinioStorage } from '@papka/storage';
import { createTestDatabase, dropDatabase, eventually, infraEnv, s3Env, serviceEnv, startFakeDms, startService, type FakeDms, type RunningService } from '@papka/testing';
import { contractor, contractorEvent, documentAttachedEvent, documentEvent, innOf, interaction, interactionEvent, payment, paymentEvent, Producers, records, tenant, type Tenant } from './harness';

/** The built-in invoice template (apps/documents/src/templates/builtin/builtin.ts). */
const INVOICE_TEMPLATE = '61d0fed1-e842-42ba-b2cc-b9423a2a02fa';

/**
 * finance-sync against the fake DMS (003) on the real Kafka, PostgreSQL and MinIO. Rendered PDFs
 * are put in the `documents` bucket as the documents service stores them; everything is asserted
 * on what the fake holds at the end.
 */
describe('finance-sync with the DMS (PostgreSQL + Kafka + MinIO + fake DMS)', () => {
  let dms: FakeDms;
  /**
   * A DMS whose upsert replaces the record (003 does not say which it does): a body that leaves
   * out Signed or the payment fields clears them, as a real "AddOrUpdate" may.
   */
  let replacing: FakeDms;
  /** A second listener, never allowlisted: the SSRF cases point at it and it must count no hits. */
  let victim: FakeDms;
  let db: string;
  let fs: RunningService;
  const producers = new Producers();
  const base = () => fs.url;
  const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY } = infraEnv();
  const storage = new MinioStorage({ endpoint: S3_ENDPOINT, accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY });

  beforeAll(async () => {
    dms = await startFakeDms();
    replacing = await startFakeDms({ upsert: 'replace' });
    victim = await startFakeDms({ tokens: [dms.token] });
    db = await createTestDatabase('finance_dms');
    await storage.ensureBucket(Buckets.documents);
    await producers.connect();
    fs = await startService(
      'finance-sync',
      serviceEnv({
        ...s3Env(),
        DATABASE_URL: db,
        FINANCE_ALLOWED_HOSTS: `127.0.0.1:${dms.port},127.0.0.1:${replacing.port}`,
        FINANCE_DMS_MAX_FILE_BYTES: String(4 * 1024 * 1024),
        FINANCE_RETRY_SCHEDULE: ['0', '50', '100', '200', ...Array(10).fill('500')].join(','),
        FINANCE_UNAVAILABLE_RETRY_MS: '200',
        FINANCE_PAUSE_PROBE_MS: '300',
        FINANCE_WORKER_POLL_MS: '50',
        FINANCE_HTTP_TIMEOUT_MS: '3000',
        FINANCE_LEASE_MS: '2000',
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await fs?.stop();
    await producers.close();
    await dms?.close();
    await replacing?.close();
    await victim?.close();
    if (db) await dropDatabase(db);
  });

  afterEach(() => dms.clearFaults());

  const ORGANIZATION = { name: 'ООО «Папка»', inn: '7701234567', kpp: '770101001' };

  const connect = async (t: Tenant, settings: Record<string, unknown> = {}, to: FakeDms = dms) => {
    const res = await t.api<{ status: string; connection: ConnectionView }>('PUT', '/v2/finance/connections/dms', { token: to.token, settings: { baseUrl: to.url, organization: ORGANIZATION, ...settings } });
    expect(res.status).toBe(200);
    return res.body.connection;
  };

  /** A PDF-like file of `size` random bytes, stored where the documents service puts rendered files. */
  async function storedPdf(accountId: string, size = 200_000): Promise<{ key: string; bytes: Buffer }> {
    const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(size)]);
    const key = `${accountId}/${randomUUID()}.pdf`;
    await storage.put(Buckets.documents, key, bytes, { size: bytes.length, contentType: 'application/pdf' });
    return { key, bytes };
  }

  function invoice(c: ContractorSnapshot, key: string, over: Partial<DocumentSnapshot> = {}): DocumentSnapshot {
    const now = new Date().toISOString();
    return {
      uuid: randomUUID(),
      name: 'Счёт на оплату',
      type: 'Счёт',
      status: 1,
      renderState: 'rendered',
      renderError: null,
      filename: 'schet-na-oplatu.pdf',
      contentType: 'application/pdf',
      storageKey: key,
      contractorId: c.uuid,
      contractor: { name: c.mainInfo.name, inn: c.mainInfo.inn, address: c.mainInfo.address },
      templateId: INVOICE_TEMPLATE,
      masks: { number: '15', date: '2026-06-05', lines: [{ title: 'Разработка', measure: 'усл.', quantity: 1, price: 1_500_050 }] },
      sum: 1_500_050,
      createdAt: now,
      updatedAt: now,
      ...over,
    } as DocumentSnapshot;
  }

  const recordOf = async (t: Tenant, entityId: string) => (await records(t.api, `entityId=${entityId}`))[0];
  const synced = (t: Tenant, entityId: string) => eventually(async () => ((await recordOf(t, entityId))?.state === 'synced' ? recordOf(t, entityId) : null), 60_000, 200);

  it('a rendered invoice arrives with a PDF whose bytes equal the stored file', async () => {
    const t = await tenant(base, 'dms');
    await connect(t);
    const c = contractor('ООО «Ромашка»', { inn: innOf(11), kpp: '770201001' });
    const file = await storedPdf(t.accountId, 1_500_000);
    const d = invoice(c, file.key);
    await producers.sendMany([contractorEvent(t.accountId, c), documentEvent(t.accountId, d, 'document.rendered')]);
    await synced(t, d.uuid);

    const record = dms.record(d.uuid);
    expect(record).toBeDefined();
    expect(record!.file!.equals(file.bytes)).toBe(true);
    expect(record).toMatchObject({
      docNumber: '15',
      docDate: '05.06.2026',
      docTypeId: 6,
      source: 'Исходящий',
      amount: 15_001, // rubles (the default unit), 15 000.50 rounded
      contractor: { Ext_ID: c.uuid, INN: innOf(11), Name: 'ООО «Ромашка»', KPP: '770201001' },
      organization: expect.objectContaining({ name: ORGANIZATION.name, inn: ORGANIZATION.inn }),
      fileName: 'schet-na-oplatu.pdf',
    });
  }, 90_000);

  it('commit-then-drop on every first call still leaves one record per document', async () => {
    const t = await tenant(base, 'dms');
    await connect(t, { amountUnit: 'kopecks' });
    dms.setCommitThenDrop('first');
    const c = contractor('ООО «Орион»', { inn: innOf(12) });
    const docs = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const file = await storedPdf(t.accountId, 50_000 + n);
        return { d: invoice(c, file.key, { masks: { number: `D-${n}` }, sum: 100_000 * n }), file };
      }),
    );
    await producers.sendMany([contractorEvent(t.accountId, c), ...docs.map(({ d }) => documentEvent(t.accountId, d, 'document.rendered'))]);
    for (const { d } of docs) await synced(t, d.uuid);

    for (const { d, file } of docs) {
      const held = dms.records().filter((r) => r.extId === d.uuid);
      expect(held).toHaveLength(1);
      expect(held[0].file!.equals(file.bytes)).toBe(true);
      expect(held[0].amount).toBe(d.sum); // kopecks, as the connection says
      // The resend after the drop was the same request: the same RequestID twice.
      expect(held[0].requestIds.length).toBeGreaterThanOrEqual(2);
      expect(new Set(held[0].requestIds).size).toBe(1);
      expect(dms.calls({ outcome: 'dropped' }).filter((x) => x.extId === d.uuid)).toHaveLength(1);
    }
  }, 120_000);

  it('a DMS that refuses a repeated RequestID still ends with one record per document after commit-then-drop, not a failure', async () => {
    const t = await tenant(base, 'dms');
    await connect(t, { amountUnit: 'kopecks' });
    dms.setRequestIdDedupe('reject');
    dms.setCommitThenDrop('first');
    const c = contractor('ООО «Строгий»', { inn: innOf(14) });
    const file = await storedPdf(t.accountId, 70_000);
    const d = invoice(c, file.key, { masks: { number: 'R-1' }, sum: 250_000 });
    await producers.sendMany([contractorEvent(t.accountId, c), documentEvent(t.accountId, d, 'document.rendered')]);
    await synced(t, d.uuid);
    const held = dms.records().filter((r) => r.extId === d.uuid);
    expect(held).toHaveLength(1);
    expect(held[0].file!.equals(file.bytes)).toBe(true);
    // The first RequestID (applied, answer lost), the resend refused under it, then a new one (the upsert).
    expect(dms.calls().filter((x) => x.extId === d.uuid).map((x) => x.outcome)).toEqual(['dropped', 'bad-request', 'updated']);
    expect(new Set(held[0].requestIds).size).toBe(2);
  }, 120_000);

  it('a changed document updates the same record, with a new RequestID', async () => {
    const t = await tenant(base, 'dms');
    await connect(t);
    const c = contractor('ООО «Вектор»', { inn: innOf(13) });
    const file = await storedPdf(t.accountId);
    const d = invoice(c, file.key);
    await producers.sendMany([contractorEvent(t.accountId, c), documentEvent(t.accountId, d, 'document.rendered')]);
    await synced(t, d.uuid);
    const first = dms.record(d.uuid)!;

    const file2 = await storedPdf(t.accountId, 120_000);
    const changed = { ...d, masks: { ...d.masks, number: '15-А' }, storageKey: file2.key, status: 3, updatedAt: new Date().toISOString() } as DocumentSnapshot;
    await producers.sendMany([documentEvent(t.accountId, changed, 'document.rendered')]);
    const after = await eventually(async () => {
      const r = dms.record(d.uuid);
      return r && r.docNumber === '15-А' ? r : null;
    }, 60_000);
    await synced(t, d.uuid);

    expect(dms.records().filter((r) => r.extId === d.uuid)).toHaveLength(1);
    expect(after.id).toBe(first.id);
    expect(after.file!.equals(file2.bytes)).toBe(true);
    expect(after.signed).toBe(true);
    expect(after.requestId).not.toBe(first.requestId);
  }, 90_000);

  it('a 401 "#err-40" pauses the connection as unauthorized; the document goes once the token works again', async () => {
    const t = await tenant(base, 'dms');
    const token = `dms-${randomBytes(8).toString('hex')}`;
    dms.setTokenValid(token, true);
    const put = await t.api('PUT', '/v2/finance/connections/dms', { token, settings: { baseUrl: dms.url, organization: ORGANIZATION } });
    expect(put.status).toBe(200);
    dms.setTokenValid(token, false);
    const c = contractor('ООО «Бета»', { inn: innOf(15) });
    const file = await storedPdf(t.accountId);
    const d = invoice(c, file.key);
    await producers.sendMany([contractorEvent(t.accountId, c), documentEvent(t.accountId, d, 'document.rendered')]);
    const paused = await eventually(async () => {
      const [conn] = (await t.api<ConnectionView[]>('GET', '/v2/finance/connections')).body;
      return conn?.state === 'paused' ? conn : null;
    }, 60_000);
    expect(paused.reason).toBe('unauthorized');
    expect(dms.record(d.uuid)).toBeUndefined();
    expect(dms.calls({ outcome: 'unauthorized' }).length).toBeGreaterThan(0);

    dms.setTokenValid(token, true);
    await synced(t, d.uuid);
    expect(dms.record(d.uuid)!.file!.equals(file.bytes)).toBe(true);
  }, 120_000);

  it("without settings.organization, the account's organisation from Papka is the record's Organization, and a renamed seller updates the record", async () => {
    const t = await tenant(base, 'dms');
    const put = await t.api('PUT', '/v2/finance/connections/dms', { token: dms.token, settings: { baseUrl: dms.url } });
    expect(put.status).toBe(200);
    // As the contractors service publishes PUT /v2/docs/organization: key and aggregate = the account.
    const organizationEvent = (name: string) => {
      const data: OrganizationSnapshot = { accountId: t.accountId, inn: '7709876543', kpp: '770901001', ogrn: null, name, address: null, director: null, directorPost: null, bankAccounts: [], fullInfo: null, updatedAt: new Date().toISOString() };
      return { topic: Topics.contractors, type: 'organization.updated', accountId: t.accountId, aggregateId: t.accountId, data };
    };
    const c = contractor('ООО «Гамма»', { inn: innOf(16) });
    const file = await storedPdf(t.accountId);
    const d = invoice(c, file.key);
    await producers.sendMany([organizationEvent('ООО «Продавец»'), contractorEvent(t.accountId, c), documentEvent(t.accountId, d, 'document.rendered')]);
    const first = await eventually(async () => (dms.record(d.uuid)?.organization.name === 'ООО «Продавец»' ? dms.record(d.uuid) : null), 60_000);
    expect(first!.organization).toEqual({ Ext_ID: t.accountId, name: 'ООО «Продавец»', inn: '7709876543', kpp: '770901001' });

    await producers.sendMany([organizationEvent('ООО «Продавец и партнёры»')]);
    const renamed = await eventually(async () => (dms.record(d.uuid)?.organization.name === 'ООО «Продавец и партнёры»' ? dms.record(d.uuid) : null), 60_000);
    await synced(t, d.uuid);
    expect(dms.records().filter((r) => r.extId === d.uuid)).toHaveLength(1);
    expect(renamed!.id).toBe(first!.id);
    expect(renamed!.organization).toEqual({ Ext_ID: t.accountId, name: 'ООО «Продавец и партнёры»', inn: '7709876543', kpp: '770901001' });
    expect(renamed!.file!.equals(file.bytes)).toBe(true);
  }, 120_000);

  describe('a baseUrl that points inside is a 400 naming settings.baseUrl, and nothing reaches the listener', () => {
    it.each([
      ['http://127.0.0.1:<port>, not allowlisted', () => `http://127.0.0.1:${victim.port}`],
      ['https://127.0.0.1:<port>, not allowlisted', () => `https://127.0.0.1:${victim.port}`],
      ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data'],
      ['a private address', () => 'https://10.20.30.40/dms'],
      ['a name resolving to loopback', () => `https://localhost:${victim.port}`],
    ])('%s', async (_what, url) => {
      const t = await tenant(base, 'dms');
      victim.resetHits();
      const res = await t.api<{ errors?: Record<string, string[]> }>('PUT', '/v2/finance/connections/dms', { token: dms.token, settings: { baseUrl: url() } });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors ?? {})).toEqual(['settings.baseUrl']);
      expect(victim.hits()).toEqual({ connections: 0, requests: 0 });
      expect((await t.api<ConnectionView[]>('GET', '/v2/finance/connections')).body).toEqual([]);
    });
  });

  it('acceptance: connection, contractor, an invoice attached to an interaction and rendered, a payment: one document record with the PDF and one payment record', async () => {
    const t = await tenant(base, 'dms');
    const connection = await connect(t);
    expect(connection).toMatchObject({ target: 'dms' });
    expect(JSON.stringify(connection)).not.toContain(dms.token);

    const c = contractor('ООО «Альфа»', { inn: innOf(14), kpp: '770301001' });
    const file = await storedPdf(t.accountId, 300_000);
    const d = invoice(c, file.key, { masks: { number: '77', date: '2026-06-05' }, sum: 990_000 });
    const i = interaction(c, 'Поставка', 990_000);
    const p = payment(990_000, '2026-06-09');
    await producers.sendMany([
      contractorEvent(t.accountId, c),
      interactionEvent(t.accountId, i),
      documentEvent(t.accountId, d, 'document.rendered'),
      documentAttachedEvent(t.accountId, i, d),
    ]);
    await producers.sendMany([paymentEvent(t.accountId, i, p)]);
    await synced(t, d.uuid);
    await synced(t, p.uuid);

    const held = dms.records().filter((r) => r.extId === d.uuid);
    expect(held).toHaveLength(1);
    expect(held[0].file!.equals(file.bytes)).toBe(true);
    expect(held[0]).toMatchObject({ docNumber: '77', paid: true, amount: 9_900 });
    const paid = dms.payments().filter((x) => x.extId === d.uuid);
    // One payment record, written twice: the paid invoice goes out with its payment fields (so a
    // later update keeps them), then the payment's own call.
    expect(paid).toEqual([expect.objectContaining({ paymentNumber: p.name, paymentDate: '09.06.2026', signed: true, writes: 2 })]);
    expect(held[0]).toMatchObject({ signed: true, paymentNumber: p.name, paymentDate: '09.06.2026' });
  }, 120_000);

  it('part payments: the invoice is marked paid once, by the payment that pays it in full, not by the first part', async () => {
    const t = await tenant(base, 'dms');
    await connect(t);
    const c = contractor('ООО «Частями»', { inn: innOf(15) });
    const file = await storedPdf(t.accountId, 10_000);
    const d = invoice(c, file.key, { masks: { number: '78', date: '2026-06-05' }, sum: 990_000 });
    const i = interaction(c, 'Оплата частями', 990_000);
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), documentEvent(t.accountId, d, 'document.rendered'), documentAttachedEvent(t.accountId, i, d)]);
    await synced(t, d.uuid);
    const first = payment(400_000, '2026-06-09');
    await producers.sendMany([paymentEvent(t.accountId, i, first)]);
    const one = await synced(t, first.uuid);
    expect(one).toMatchObject({ remoteId: null, lastError: expect.stringContaining('not paid in full yet') });
    expect(dms.records().find((r) => r.extId === d.uuid)).toMatchObject({ paid: false });
    expect(dms.payments().filter((x) => x.extId === d.uuid)).toEqual([]);

    const rest = payment(590_000, '2026-06-10');
    await producers.sendMany([paymentEvent(t.accountId, i, rest)]);
    await synced(t, rest.uuid);
    expect(dms.records().find((r) => r.extId === d.uuid)).toMatchObject({ paid: true });
    expect(dms.payments().filter((x) => x.extId === d.uuid)).toEqual([expect.objectContaining({ paymentNumber: rest.name, paymentDate: '10.06.2026' })]);
    // The first part stays not applicable: asked again (a payment of the deal came), still not the one.
    expect(await synced(t, first.uuid)).toMatchObject({ remoteId: null, lastError: expect.stringContaining(`paid in full by payment ${rest.uuid}`) });
  }, 120_000);

  it('an invoice changed after its payment keeps the payment on a DMS whose upsert replaces the record: still signed, paid, with the payment number', async () => {
    const t = await tenant(base, 'dms');
    await connect(t, {}, replacing);
    const c = contractor('ООО «Оплачено»', { inn: innOf(18) });
    const file = await storedPdf(t.accountId, 20_000);
    const d = invoice(c, file.key, { masks: { number: '80', date: '2026-06-05' }, sum: 990_000 });
    const i = interaction(c, 'Поставка с оплатой', 990_000);
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), documentEvent(t.accountId, d, 'document.rendered'), documentAttachedEvent(t.accountId, i, d)]);
    await synced(t, d.uuid);
    expect(replacing.record(d.uuid)).toMatchObject({ signed: false, paid: false, paymentNumber: null });

    const p = payment(990_000, '2026-06-09');
    await producers.sendMany([paymentEvent(t.accountId, i, p)]);
    await synced(t, p.uuid);
    const paid = { signed: true, paid: true, paymentNumber: p.name, paymentDate: '09.06.2026' };
    await eventually(async () => (replacing.record(d.uuid)?.paid ? true : null), 60_000);
    expect(replacing.record(d.uuid)).toMatchObject(paid);
    // The payment call (no file: the PDF went with the document) is the last write so far; the rename comes after it.
    const before = replacing.record(d.uuid)!;
    expect(before.lastBody).toMatchObject({ PaymentNumber: p.name, Binaries: { FileBase64: '' } });
    const writes = before.writes;

    // Renamed (and renumbered) after the payment, still a draft in Papka (status 1, not signed).
    const renamed = { ...d, name: 'Счёт на оплату (исправленный)', masks: { ...d.masks, number: '80-А' }, updatedAt: new Date().toISOString() } as DocumentSnapshot;
    await producers.sendMany([documentEvent(t.accountId, renamed, 'document.rendered')]);
    const after = await eventually(async () => {
      const r = replacing.record(d.uuid);
      return r && r.docNumber === '80-А' ? r : null;
    }, 60_000);
    await synced(t, d.uuid);

    // The document update landed after the payment call: the last write, with the file.
    expect(after.writes).toBeGreaterThan(writes);
    expect(after.lastBody).toMatchObject({ DocNumber: '80-А', Binaries: { FileName: 'schet-na-oplatu.pdf', FileBase64: `<${file.bytes.length} bytes>` } });
    expect(replacing.record(d.uuid)).toMatchObject({ ...paid, docNumber: '80-А' });
    expect(replacing.records().filter((r) => r.extId === d.uuid)).toHaveLength(1);
    expect(after.id).toBe(before.id);
    expect(after.file!.equals(file.bytes)).toBe(true);
    expect(replacing.payments().filter((x) => x.extId === d.uuid)).toEqual([expect.objectContaining({ paymentNumber: p.name, paymentDate: '09.06.2026', signed: true })]);
  }, 120_000);

  it("reconciliation is one-sided from Papka's side: empty after the acceptance path, and a document the DMS refuses is missing", async () => {
    const t = await tenant(base, 'dms');
    const range = `from=2026-06-01&to=${new Date().toISOString().slice(0, 10)}`;
    expect((await t.api('GET', `/v2/finance/reconciliation/dms?${range}`)).status).toBe(404); // not connected
    await connect(t);
    const c = contractor('ООО «Дельта»', { inn: innOf(17), kpp: '770401001' });
    const file = await storedPdf(t.accountId);
    const d = invoice(c, file.key, { masks: { number: '78', date: '2026-06-05' }, sum: 500_000 });
    const i = interaction(c, 'Поставка', 500_000);
    const p = payment(500_000, '2026-06-09');
    await producers.sendMany([contractorEvent(t.accountId, c), interactionEvent(t.accountId, i), documentEvent(t.accountId, d, 'document.rendered'), documentAttachedEvent(t.accountId, i, d)]);
    await producers.sendMany([paymentEvent(t.accountId, i, p)]);
    await synced(t, d.uuid);
    await synced(t, p.uuid);
    expect(dms.payments().filter((x) => x.extId === d.uuid)).toHaveLength(1);
    expect(await t.api('GET', `/v2/finance/reconciliation/dms?${range}`)).toMatchObject({ status: 200, body: { missingRemote: [], extraRemote: [], mismatched: [], duplicates: [], remoteListed: false } });

    // Every DMS call now answers 500 "Database Failure": the next document never gets there.
    dms.setServerErrors(1, 'before');
    const file2 = await storedPdf(t.accountId);
    const refused = invoice(c, file2.key, { masks: { number: '79' } });
    await producers.sendMany([documentEvent(t.accountId, refused, 'document.rendered')]);
    await eventually(async () => ((await recordOf(t, refused.uuid))?.lastError ? true : null), 60_000, 200);
    expect(dms.record(refused.uuid)).toBeUndefined();
    expect(await t.api('GET', `/v2/finance/reconciliation/dms?${range}`)).toMatchObject({
      status: 200,
      body: { missingRemote: [{ entityType: 'document', entityId: refused.uuid }], extraRemote: [], mismatched: [], duplicates: [], remoteListed: false },
    });
  }, 120_000);
});
