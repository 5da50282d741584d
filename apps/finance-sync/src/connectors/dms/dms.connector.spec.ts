import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { startFakeDms, type FakeDms } from '@papka/testing';
import { ConnectorError, FileNotFound, InvalidSettings, type ConnectorOptions, type DocumentData, type FileSource, type PaymentData, type Settings } from '../connector';
import { DmsConnector, parseDmsSettings } from './dms.connector';

const DOC = '0f8fad5b-d9cb-469f-a165-70867728950e';

function files(store: Map<string, Buffer>): FileSource {
  return {
    open: async (key) => {
      const b = store.get(key);
      if (!b) throw new FileNotFound(key);
      // pieces of 64 KiB, as object storage streams it
      const parts: Buffer[] = [];
      for (let i = 0; i < b.length; i += 65_536) parts.push(b.subarray(i, i + 65_536));
      return { stream: Readable.from(parts), size: b.length };
    },
  };
}

function doc(over: Partial<DocumentData> = {}): DocumentData {
  return {
    id: DOC,
    type: 'Счёт',
    kind: 'invoice',
    templateId: null,
    name: 'Счёт №15',
    sum: 1_500_000,
    masks: { number: '15', date: '2026-06-05' },
    createdAt: '2026-06-01T10:00:00.000Z',
    status: 1,
    renderState: 'rendered',
    storageKey: 'acc/doc.pdf',
    filename: 'schet-15.pdf',
    contentType: 'application/pdf',
    contractor: { id: 'c-1', name: 'ООО Орион', inn: '9686961876', kpp: '968601000', address: null, remoteId: null },
    interactionId: 'i-1',
    contractDocumentId: null,
    organization: null,
    payment: null,
    contentHash: 'h1',
    ...over,
  };
}

describe('DmsConnector', () => {
  let fake: FakeDms;
  const store = new Map<string, Buffer>();
  const pdf = randomBytes(300_000);
  const connectors: DmsConnector[] = [];

  beforeEach(async () => {
    fake = await startFakeDms();
    store.clear();
    store.set('acc/doc.pdf', pdf);
  });
  afterEach(async () => {
    await Promise.all(connectors.splice(0).map((c) => c.close()));
    await fake.close();
  });

  function connector(settings: Settings = {}, o: Partial<ConnectorOptions> = {}): DmsConnector {
    const parsed = parseDmsSettings({ baseUrl: fake.url, organization: { name: 'ООО Ромашка', inn: '7799555551', kpp: '779901001' }, ...settings });
    const c = new DmsConnector({
      urls: { adesk: '', moysklad: '' },
      allowedHosts: [`127.0.0.1:${fake.port}`],
      maxFileBytes: 1_000_000,
      files: files(store),
      token: fake.token,
      settings: parsed,
      connectionTag: 'abcd1234',
      connectionId: '11111111-2222-4333-8444-555555555555',
      timeoutMs: 3_000,
      batchSize: 100,
      ...o,
    });
    connectors.push(c);
    return c;
  }

  const runDocument = (c: DmsConnector, d: DocumentData, mapped?: string, changed = false) => c.documentSteps(d, () => mapped, changed)[0].run();

  describe('settings', () => {
    const field = (raw: Settings): string | undefined => {
      try {
        parseDmsSettings(raw);
        return undefined;
      } catch (err) {
        if (err instanceof InvalidSettings) return err.field;
        throw err;
      }
    };
    it('needs baseUrl and names each bad setting', () => {
      expect(field({})).toBe('settings.baseUrl');
      expect(field({ baseUrl: 'not a url' })).toBe('settings.baseUrl');
      expect(field({ baseUrl: 'https://d.example', authHeader: 'Bearer token' })).toBe('settings.authHeader');
      expect(field({ baseUrl: 'https://d.example', amountUnit: 'cents' })).toBe('settings.amountUnit');
      expect(field({ baseUrl: 'https://d.example', docTypeIds: { invoice: 3 } })).toBe('settings.docTypeIds.invoice');
      expect(field({ baseUrl: 'https://d.example', docTypeIds: { memo: 19 } })).toBe('settings.docTypeIds.memo');
      expect(field({ baseUrl: 'https://d.example', colour: 'red' })).toBe('settings.colour');
    });
    it('fills the defaults: Authorization: Bearer, rubles, 003 DocTypeIds', () => {
      expect(parseDmsSettings({ baseUrl: 'https://d.example', docTypeIds: { letter: 11 } })).toMatchObject({
        authHeader: 'Authorization: Bearer',
        amountUnit: 'rubles',
        docTypeIds: { invoice: 6, act: 2, contract: 4, letter: 11, other: 13 },
      });
    });
  });

  describe('check', () => {
    it.each([
      ['a loopback http URL that is not allowlisted', (port: number) => `http://127.0.0.1:${port + 1}`],
      ['the metadata address', () => 'http://169.254.169.254'],
      ['a private address over https', () => 'https://10.0.0.7'],
      ['a name resolving to loopback', (port: number) => `https://localhost:${port}`],
    ])('refuses %s as settings.baseUrl, and nothing reaches the DMS', async (_what, url) => {
      const c = connector({ baseUrl: url(fake.port) });
      const err = await c.check(parseDmsSettings({ baseUrl: url(fake.port) })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidSettings);
      expect((err as InvalidSettings).field).toBe('settings.baseUrl');
      expect(fake.hits()).toEqual({ connections: 0, requests: 0 });
    });

    it('accepts an allowlisted DMS that knows the token, adding nothing', async () => {
      const c = connector();
      const settings = parseDmsSettings({ baseUrl: fake.url });
      await expect(c.check(settings)).resolves.toEqual(settings);
      expect(fake.records()).toHaveLength(0);
    });

    it('reports a token the DMS does not know as unauthorized (401 #err-40)', async () => {
      const c = connector({}, { token: 'wrong' });
      const err = await c.check(parseDmsSettings({ baseUrl: fake.url })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect((err as ConnectorError).failure).toBe('unauthorized');
    });
  });

  it('sends a rendered document with its PDF, byte for byte, and upserts it on a change', async () => {
    const c = connector();
    const id = await runDocument(c, doc());
    const [record] = fake.records();
    expect(id).toBe(String(record.id));
    expect(record.file?.equals(pdf)).toBe(true);
    expect(record).toMatchObject({ extId: DOC, docNumber: '15', docDate: '05.06.2026', docTypeId: 6, amount: 15_000, source: 'Исходящий', organization: { Ext_ID: '7799555551', name: 'ООО Ромашка', inn: '7799555551', kpp: '779901001' } });
    const steps = c.documentSteps(doc({ masks: { number: '16', date: '2026-06-05' }, contentHash: 'h2' }), () => id, true);
    expect(steps[0].kind).toBeNull();
    await expect(steps[0].run()).resolves.toBe(id);
    expect(fake.records()).toHaveLength(1);
    expect(fake.records()[0]).toMatchObject({ docNumber: '16', writes: 2 });
    expect(new Set(fake.records()[0].requestIds).size).toBe(2);
  });

  it("sends the account's organisation from Papka first (Ext_ID = the account), settings.organization only without it", async () => {
    const papka = { accountId: 'acc-7', name: 'ООО Папка', inn: '7701234567', kpp: null };
    await runDocument(connector(), doc({ organization: papka }));
    expect(fake.records()[0].organization).toEqual({ Ext_ID: 'acc-7', name: 'ООО Папка', inn: '7701234567', kpp: null });
    await runDocument(connector({ organization: null }), doc({ organization: { ...papka, name: 'ООО Папка-2', kpp: '770101001' } }));
    expect(fake.records()[0].organization).toEqual({ Ext_ID: 'acc-7', name: 'ООО Папка-2', inn: '7701234567', kpp: '770101001' });
  });

  it('refuses a document with neither the organisation nor settings.organization, naming the setting, and sends nothing', async () => {
    const err = await runDocument(connector({ organization: null }), doc()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ failure: 'rejected', method: 'settings.organization' });
    expect((err as Error).message).toMatch(/settings\.organization/);
    expect(fake.hits().requests).toBe(0);
  });

  it('sends the header and amount unit the settings say', async () => {
    await fake.close();
    fake = await startFakeDms({ authHeader: 'X-Api-Key' });
    const c = connector({ baseUrl: fake.url, authHeader: 'X-Api-Key', amountUnit: 'kopecks' }, { allowedHosts: [`127.0.0.1:${fake.port}`], token: fake.token });
    await runDocument(c, doc());
    expect(fake.records()[0].amount).toBe(1_500_000);
  });

  it('a dropped answer is outcome_unknown; resending the same body leaves one record with the same RequestID', async () => {
    fake.setCommitThenDrop('first');
    const c = connector();
    const err = await runDocument(c, doc()).catch((e: unknown) => e);
    expect((err as ConnectorError).failure).toBe('outcome_unknown');
    await runDocument(c, doc());
    expect(fake.records()).toHaveLength(1);
    const [record] = fake.records();
    expect(record.requestIds).toEqual([record.requestId, record.requestId]);
    expect(record.file?.equals(pdf)).toBe(true);
  });

  it('maps 401 to unauthorized, 400 to rejected, 500 Database Failure to outcome_unknown', async () => {
    const failureOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e as ConnectorError).failure);
    expect(await failureOf(runDocument(connector({}, { token: 'revoked' }), doc()))).toBe('unauthorized');
    expect(await failureOf(runDocument(connector(), doc({ masks: { number: '' }, contractor: { id: 'c', name: '', inn: null, kpp: null, address: null, remoteId: null } })))).toBe('rejected');
    fake.setServerErrors(1);
    expect(await failureOf(runDocument(connector(), doc()))).toBe('outcome_unknown');
  });

  it("tells a document's file that is gone (rejected) from object storage being down for now (unavailable), sending nothing", async () => {
    const down: FileSource = { open: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' })) };
    const gone: FileSource = { open: (key) => Promise.reject(new FileNotFound(key)) };
    const [whileDown, whenGone] = await Promise.all([runDocument(connector({}, { files: down }), doc()).catch((e: unknown) => e), runDocument(connector({}, { files: gone }), doc()).catch((e: unknown) => e)]);
    expect(whileDown).toMatchObject({ failure: 'unavailable', message: expect.stringMatching(/cannot be read: connect ECONNREFUSED/) });
    expect(whenGone).toMatchObject({ failure: 'rejected', message: expect.stringMatching(/not found/) });
    expect(fake.hits().requests).toBe(0);
  });

  it('refuses a file over FINANCE_DMS_MAX_FILE_BYTES without sending anything', async () => {
    const c = connector({}, { maxFileBytes: 1024 });
    const err = await runDocument(c, doc()).catch((e: unknown) => e);
    expect((err as ConnectorError).failure).toBe('rejected');
    expect((err as Error).message).toMatch(/FINANCE_DMS_MAX_FILE_BYTES/);
    expect(fake.hits().requests).toBe(0);
  });

  it('takes only rendered documents with a contractor, and income payments on an interaction with an invoice', () => {
    const c = connector();
    expect(c.applies({ type: 'document', data: doc() })).toBe(true);
    expect(c.applies({ type: 'document', data: doc({ renderState: 'pending', storageKey: null }) })).toMatch(/rendered/);
    expect(c.applies({ type: 'document', data: doc({ contractor: null }) })).toMatch(/contractor/);
    const p = { id: 'p', type: 'income', name: '1', sum: 1, date: '2026-06-07', interactionId: 'i-1', contractorId: 'c-1', contractorRemoteId: '', projectRemoteId: '', invoice: { id: DOC, sum: 1, remoteId: null } } satisfies PaymentData;
    expect(c.applies({ type: 'payment', data: p })).toBe(true);
    expect(c.applies({ type: 'payment', data: { ...p, invoice: null } })).toMatch(/invoice/);
    expect(c.applies({ type: 'payment', data: { ...p, type: 'outcome' } })).toMatch(/outgoing/);
    expect(c.applies({ type: 'payment', data: { ...p, invoice: { ...p.invoice, document: doc() } } })).toBe(true);
    expect(c.applies({ type: 'payment', data: { ...p, invoice: { ...p.invoice, document: doc({ renderState: 'pending', storageKey: null }) } } })).toMatch(/^its invoice is not in the DMS: .*rendered/);
    expect(c.dependencies({ type: 'payment', data: p })).toEqual([{ kind: 'document', key: DOC }]);
    // 003's call marks the invoice paid: only the payment that pays it in full goes.
    expect(c.applies({ type: 'payment', data: { ...p, invoice: { ...p.invoice, paidInFullBy: 'p' } } })).toBe(true);
    expect(c.applies({ type: 'payment', data: { ...p, invoice: { ...p.invoice, paidInFullBy: null } } })).toMatch(/not paid in full yet/);
    expect(c.applies({ type: 'payment', data: { ...p, invoice: { ...p.invoice, paidInFullBy: 'p-2' } } })).toMatch(/paid in full by payment p-2/);
  });

  it('sends a payment as the invoice-payment call on the invoice record: one record, one payment', async () => {
    const c = connector();
    const d = doc();
    await runDocument(c, d);
    const p: PaymentData & { invoice: { document: DocumentData } } = {
      id: '3b241101-e2bb-4255-8caf-4136c566a962',
      type: 'income',
      name: '3-3',
      sum: 1_500_000,
      date: '2026-06-07',
      interactionId: 'i-1',
      contractorId: 'c-1',
      contractorRemoteId: '',
      projectRemoteId: '',
      invoice: { id: DOC, sum: 1_500_000, remoteId: '1', document: d },
    };
    const [result] = await c.createPayments([p]);
    expect(typeof result).toBe('string');
    expect(fake.records()).toHaveLength(1);
    expect(fake.records()[0]).toMatchObject({ paid: true });
    expect(fake.records()[0].file?.equals(pdf)).toBe(true);
    expect(fake.payments()).toEqual([expect.objectContaining({ extId: DOC, paymentNumber: '3-3', paymentDate: '07.06.2026', signed: true })]);
  });

  it('an update of a paid invoice after its payment keeps the record signed and paid, on a DMS whose upsert replaces the record', async () => {
    fake.setUpsert('replace');
    const c = connector();
    const d = doc();
    const id = await runDocument(c, d);
    const p: PaymentData = {
      id: '3b241101-e2bb-4255-8caf-4136c566a962',
      type: 'income',
      name: '3-3',
      sum: 1_500_000,
      date: '2026-06-07',
      interactionId: 'i-1',
      contractorId: 'c-1',
      contractorRemoteId: '',
      projectRemoteId: '',
      invoice: { id: DOC, sum: 1_500_000, remoteId: id, document: { ...d, payment: { id: '3b241101-e2bb-4255-8caf-4136c566a962', name: '3-3', date: '2026-06-07' } } },
    };
    await c.createPayments([p]);
    expect(fake.record(DOC)).toMatchObject({ signed: true, paid: true, paymentNumber: '3-3' });

    // Renamed after the payment: the engine hands the invoice over with the payment that pays it.
    const steps = c.documentSteps(doc({ masks: { number: '15-А', date: '2026-06-05' }, payment: { id: p.id, name: '3-3', date: '2026-06-07' }, contentHash: 'h3' }), () => id, true);
    expect(steps[0].method).toBe('POST /Metadata/AddOrUpdateExtDoc(3)');
    await expect(steps[0].run()).resolves.toBe(id);
    expect(fake.records()).toHaveLength(1);
    expect(fake.record(DOC)).toMatchObject({ docNumber: '15-А', signed: true, paid: true, paymentNumber: '3-3', paymentDate: '07.06.2026' });
    expect(fake.record(DOC)!.file?.equals(pdf)).toBe(true);
    expect(fake.record(DOC)!.lastBody).toMatchObject({ PaymentNumber: '3-3', Signed: true, Binaries: { FileName: 'schet-15.pdf', FileBase64: `<${pdf.length} bytes>` } });

    // No payment (removed in Papka, say): as before, the document body without the payment fields.
    const unpaid = c.documentSteps(doc({ masks: { number: '15-Б', date: '2026-06-05' }, contentHash: 'h4' }), () => id, true);
    expect(unpaid[0].method).toBe('POST /Metadata/AddOrUpdateExtDoc');
    await unpaid[0].run();
    expect(fake.record(DOC)).toMatchObject({ docNumber: '15-Б', signed: false, paid: false, paymentNumber: null });
  });
});
