import { randomUUID } from 'node:crypto';
import { DMS_DOCUMENT_PATH, DMS_ERR_BAD_REQUEST, DMS_ERR_SERVER, DMS_ERR_UNAUTHORIZED, DMS_PAYMENT_PATH, startFakeDms, type FakeDms, type FakeDmsOptions } from './dms';

const PDF = Buffer.from('%PDF-1.4\n% fake document\n%%EOF\n');

function doc(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Ext_ID: '0b7e4c1e-3a5e-4a49-9d1c-000000000001',
    DocDate: '15.09.2023',
    DocNumber: '1-2',
    DocTypeId: 6,
    Source: 'Исходящий',
    RequestID: randomUUID(),
    Currency: 'RUR',
    Amount: 100000,
    Contractor: { Ext_ID: 'c-1', INN: '7799555551', Name: 'ООО Орион', KPP: '968601000' },
    Organization: { Ext_ID: 'acc-1', name: 'ООО Ромашка', inn: '9686961876', kpp: '968601000' },
    Binaries: { FileName: 'invoice.pdf', FileBase64: PDF.toString('base64') },
    ...over,
  };
}

describe(startFakeDms.name, () => {
  let sut: FakeDms;
  const start = async (o: FakeDmsOptions = {}) => {
    sut = await startFakeDms(o);
    return sut;
  };
  afterEach(() => sut.close());

  async function post(body: unknown, o: { path?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string }> {
    const res = await fetch(`${sut.url}${o.path ?? DMS_DOCUMENT_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.headers ?? { authorization: `Bearer ${sut.token}` }) },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  it('creates a record with its file and answers 003\'s 201 shape, requestID null', async () => {
    await start();
    const res = await post(doc());
    expect(res.status).toBe(201);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    expect(body).toMatchObject({ id: 1, ext_ID: '0b7e4c1e-3a5e-4a49-9d1c-000000000001', docNumber: '1-2', docDate: '2023-09-15T12:00:00Z', docTypeId: 6, fileExists: true, requestID: null, paid: false });
    const [record] = sut.records();
    expect(record.file?.equals(PDF)).toBe(true);
    expect(record.organization).toEqual({ Ext_ID: 'acc-1', name: 'ООО Ромашка', inn: '9686961876', kpp: '968601000' });
  });

  it('upserts by Ext_ID: a second call updates the record and creates nothing', async () => {
    await start();
    const first = doc();
    await post(first);
    const res = await post(doc({ DocNumber: '1-3', Amount: 200000 }));
    expect(res.status).toBe(201);
    expect(sut.records()).toHaveLength(1);
    expect(sut.records()[0]).toMatchObject({ id: 1, docNumber: '1-3', amount: 200000, writes: 2 });
    expect(sut.records()[0].requestIds).toHaveLength(2);
    expect(sut.calls().map((c) => c.outcome)).toEqual(['created', 'updated']);
  });

  it('answers 401 #err-40 to a wrong or missing token, and reads the header it is told to', async () => {
    await start();
    expect(await post(doc(), { headers: { authorization: 'Bearer nope' } })).toEqual({ status: 401, text: DMS_ERR_UNAUTHORIZED });
    expect((await post(doc(), { headers: {} })).status).toBe(401);
    await sut.close();
    await start({ authHeader: 'X-Api-Key', tokens: ['k1'] });
    expect((await post(doc(), { headers: { authorization: 'Bearer k1' } })).status).toBe(401);
    expect((await post(doc(), { headers: { 'x-api-key': 'k1' } })).status).toBe(201);
    expect(sut.records()).toHaveLength(1);
  });

  it.each([
    ['no Ext_ID', { Ext_ID: undefined }, 'Ext_ID is required'],
    ['an ISO date', { DocDate: '2023-09-15' }, 'DocDate must be dd.MM.yyyy'],
    ['an impossible date', { DocDate: '31.02.2023' }, 'DocDate must be dd.MM.yyyy'],
    ['a DocTypeId outside the table', { DocTypeId: 3 }, 'DocTypeId is not in the table'],
    ['a RequestID that is not a GUID', { RequestID: 'req-1' }, 'RequestID must be a GUID'],
    ['a fractional Amount', { Amount: 1000.5 }, 'Amount must be an int32'],
    ['an Amount over int32', { Amount: 2 ** 31 }, 'Amount must be an int32'],
    ['capitalised Organization keys', { Organization: { Ext_ID: 'acc-1', Name: 'ООО Ромашка', INN: '9686961876' } }, 'Organization {Ext_ID, name, inn} is required (lower-case keys)'],
    ['no file', { Binaries: { FileName: '', FileBase64: '' } }, 'Binaries.FileBase64 is empty'],
    ['broken base64', { Binaries: { FileName: 'a.pdf', FileBase64: 'abc' } }, 'Binaries.FileBase64 is not base64'],
  ])('answers 400 to %s and stores nothing', async (_what, over, problem) => {
    await start();
    expect(await post(doc(over))).toEqual({ status: 400, text: DMS_ERR_BAD_REQUEST });
    expect(sut.records()).toHaveLength(0);
    expect(sut.calls()[0].problem).toBe(problem);
  });

  it('refuses a file over maxFileBytes', async () => {
    await start({ maxFileBytes: 16 });
    expect((await post(doc())).status).toBe(400);
    expect(sut.calls()[0].problem).toBe('file over 16 bytes');
  });

  it('the invoice-payment call needs PaymentNumber and PaymentDate, marks the invoice paid and keeps one payment record', async () => {
    await start();
    await post(doc());
    const pay = doc({ PaymentNumber: '3-3', PaymentDate: '16.09.2023', Signed: true, Binaries: { FileName: '', FileBase64: '' } });
    expect((await post({ ...pay, PaymentNumber: undefined }, { path: DMS_PAYMENT_PATH })).status).toBe(400);
    const res = await post(pay, { path: DMS_PAYMENT_PATH });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text)).toMatchObject({ paid: true, state: 'Оплачено', paymentNumber: '3-3', paymentDate: '2023-09-16T12:00:00Z', signed: true });
    await post({ ...pay, RequestID: randomUUID() }, { path: DMS_PAYMENT_PATH });
    expect(sut.records()).toHaveLength(1);
    expect(sut.records()[0].file?.equals(PDF)).toBe(true); // an empty FileBase64 keeps the file
    expect(sut.payments()).toEqual([expect.objectContaining({ extId: pay.Ext_ID, paymentNumber: '3-3', paymentDate: '16.09.2023', signed: true, writes: 2 })]);
  });

  it('upsert: merge keeps what a later call leaves out; replace clears it (Signed, the payment fields, paid), the file stays', async () => {
    await start();
    const pay = doc({ PaymentNumber: '3-3', PaymentDate: '16.09.2023', Signed: true, Binaries: { FileName: '', FileBase64: '' } });
    await post(doc());
    await post(pay, { path: DMS_PAYMENT_PATH });
    expect(sut.records()[0]).toMatchObject({ signed: true, paid: true, paymentNumber: '3-3', paymentDate: '16.09.2023' });
    // The document again, without Signed or the payment fields.
    const again = doc({ RequestID: randomUUID() });
    delete again.Signed;
    await post(again);
    expect(sut.records()[0]).toMatchObject({ signed: true, paid: true, paymentNumber: '3-3' });
    sut.setUpsert('replace');
    await post({ ...again, RequestID: randomUUID() });
    expect(sut.records()[0]).toMatchObject({ signed: null, paid: false, paymentNumber: null, paymentDate: null });
    expect(sut.records()[0].file?.equals(PDF)).toBe(true);
    // A document body that carries them (and its file) keeps the record paid.
    await post(doc({ PaymentNumber: '3-3', PaymentDate: '16.09.2023', Signed: true, RequestID: randomUUID() }));
    expect(sut.records()[0]).toMatchObject({ signed: true, paid: true, paymentNumber: '3-3', paymentDate: '16.09.2023' });
    expect(sut.records()).toHaveLength(1);
  });

  it('commit-then-drop on the first call: the record is there although the client got no answer', async () => {
    await start();
    sut.setCommitThenDrop('first');
    await expect(post(doc())).rejects.toThrow();
    expect(sut.records()).toHaveLength(1);
    expect((await post(doc())).status).toBe(201);
    expect(sut.records()).toHaveLength(1);
    expect(sut.calls().map((c) => c.outcome)).toEqual(['dropped', 'updated']);
    // the first payment call of the same Ext_ID is dropped once too
    await expect(post(doc({ PaymentNumber: '1', PaymentDate: '16.09.2023' }), { path: DMS_PAYMENT_PATH })).rejects.toThrow();
    expect(sut.payments()).toHaveLength(1);
  });

  it('500 Database Failure before (nothing stored) or after (stored) applying', async () => {
    await start();
    sut.setServerErrors(1, 'before');
    expect(await post(doc())).toEqual({ status: 500, text: DMS_ERR_SERVER });
    expect(sut.records()).toHaveLength(0);
    sut.setServerErrors(1, 'after');
    expect((await post(doc())).status).toBe(500);
    expect(sut.records()).toHaveLength(1);
  });

  it('a repeated RequestID is applied by default, answered as is under replay, refused under reject', async () => {
    await start({ requestIdDedupe: 'replay' });
    const first = doc();
    await post(first);
    const res = await post({ ...first, DocNumber: 'changed' });
    expect(res.status).toBe(201);
    expect(sut.records()[0]).toMatchObject({ docNumber: '1-2', writes: 1 });
    expect(sut.calls()[1].outcome).toBe('replayed');
    await sut.close();
    await start({ requestIdDedupe: 'reject' });
    await post(first);
    expect((await post(first)).status).toBe(400);
  });

  it('counts every connection and request, whatever the path', async () => {
    await start();
    expect(sut.hits()).toEqual({ connections: 0, requests: 0 });
    await fetch(`${sut.url}/latest/meta-data`);
    expect(sut.hits().requests).toBe(1);
    expect(sut.hits().connections).toBeGreaterThanOrEqual(1);
  });
});
