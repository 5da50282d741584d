import { ConnectorError, type DocumentData, type PaymentData } from '../connector';
import { amountOf, DEFAULT_DOC_TYPE_IDS, dmsDate, docDateOf, docNumberOf, documentBody, FILE_MARKER, paymentBody, requestIdOf, uuidV5, type BodyContext, type DmsSettings } from './dms.mapper';

const CONN = '11111111-2222-4333-8444-555555555555';
const DOC = '0f8fad5b-d9cb-469f-a165-70867728950e';
const CONTRACT = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

const settings = (over: Partial<DmsSettings> = {}): DmsSettings => ({
  baseUrl: 'https://dms.example.com',
  authHeader: 'Authorization: Bearer',
  amountUnit: 'rubles',
  docTypeIds: { ...DEFAULT_DOC_TYPE_IDS },
  organization: null,
  documentPath: '/Metadata/AddOrUpdateExtDoc',
  paymentPath: '/Metadata/AddOrUpdateExtDoc(3)',
  ...over,
});

const ctx = (over: Partial<DmsSettings> = {}): BodyContext => ({ connectionId: CONN, settings: settings(over), organization: { Ext_ID: 'acc-1', name: 'ООО Ромашка', inn: '7799555551', kpp: '779901001' } });

function doc(over: Partial<DocumentData> = {}): DocumentData {
  return {
    id: DOC,
    type: 'Счёт',
    kind: 'invoice',
    templateId: null,
    name: 'Счёт №15',
    sum: 1_234_567,
    masks: { number: '15', date: '2026-06-05' },
    createdAt: '2026-06-01T10:00:00.000Z',
    status: 1,
    renderState: 'rendered',
    storageKey: 'acc-1/doc.pdf',
    filename: 'schet-15.pdf',
    contentType: 'application/pdf',
    contractor: { id: 'c-1', name: 'ООО Орион', inn: '9686961876', kpp: '968601000', address: null, remoteId: null },
    interactionId: 'i-1',
    contractDocumentId: CONTRACT,
    organization: null,
    payment: null,
    contentHash: 'h1',
    ...over,
  };
}

const pay = (over: Partial<PaymentData> = {}): PaymentData => ({
  id: '3b241101-e2bb-4255-8caf-4136c566a962',
  type: 'income',
  name: 'п/п 3-3',
  sum: 1_234_567,
  date: '2026-06-07',
  interactionId: 'i-1',
  contractorId: 'c-1',
  contractorRemoteId: '',
  projectRemoteId: '',
  invoice: { id: DOC, sum: 1_234_567, remoteId: '47' },
  ...over,
});

describe('dms mapper', () => {
  it('writes dates as dd.MM.yyyy in Moscow time: a calendar date as is, an instant on its Moscow day', () => {
    expect(dmsDate('2026-06-05')).toBe('05.06.2026');
    expect(dmsDate('2026-06-04T21:30:00Z')).toBe('05.06.2026'); // 00:30 in Moscow
    expect(dmsDate('2026-06-04T20:59:59Z')).toBe('04.06.2026');
  });

  it('takes DocNumber and DocDate from the masks, else "б/н" and the Moscow day of createdAt', () => {
    expect(docNumberOf(doc())).toBe('15');
    expect(docNumberOf(doc({ masks: { number: 42 } }))).toBe('42');
    expect(docNumberOf(doc({ masks: {} }))).toBe('б/н');
    expect(docDateOf(doc())).toBe('05.06.2026');
    expect(docDateOf(doc({ masks: {}, createdAt: '2026-12-31T22:15:00Z' }))).toBe('01.01.2027');
    expect(docDateOf(doc({ masks: { date: 'вчера' }, createdAt: '2026-03-01T09:00:00Z' }))).toBe('01.03.2026');
  });

  it('maps kinds to 003 DocTypeIds (invoice 6, act 2, contract 4, letter 12, else 13), overridable', () => {
    const ids = (kind: DocumentData['kind'], over: Partial<DmsSettings> = {}) => documentBody(doc({ kind }), ctx(over)).DocTypeId;
    expect([ids('invoice'), ids('act'), ids('contract'), ids('letter'), ids(null)]).toEqual([6, 2, 4, 12, 13]);
    expect(ids('invoice', { docTypeIds: { ...DEFAULT_DOC_TYPE_IDS, invoice: 14 } })).toBe(14);
  });

  it('sends Amount in whole rubles (rounded half away from zero) or exact kopecks, within int32', () => {
    expect(amountOf(1_234_567, 'rubles')).toBe(12_346);
    expect(amountOf(1_234_549, 'rubles')).toBe(12_345);
    expect(amountOf(-150, 'rubles')).toBe(-2);
    expect(amountOf(1_234_567, 'kopecks')).toBe(1_234_567);
    expect(amountOf(2_147_483_647, 'kopecks')).toBe(2_147_483_647);
    expect(() => amountOf(2_147_483_648, 'kopecks')).toThrow(ConnectorError);
    expect(amountOf(2_147_483_648, 'rubles')).toBe(21_474_836);
  });

  it('keeps 003 key casing: Contractor capitalised, Organization lower case but Ext_ID', () => {
    const body = documentBody(doc(), ctx());
    expect(body).toMatchObject({
      Ext_ID: DOC,
      DocNumber: '15',
      DocDate: '05.06.2026',
      DocTypeId: 6,
      Source: 'Исходящий',
      Currency: 'RUR',
      Amount: 12_346,
      Contractor: { Ext_ID: 'c-1', INN: '9686961876', Name: 'ООО Орион', KPP: '968601000' },
      Organization: { Ext_ID: 'acc-1', name: 'ООО Ромашка', inn: '7799555551', kpp: '779901001' },
      Contract: { Ext_ID: CONTRACT },
      Binaries: { FileName: 'schet-15.pdf', FileBase64: FILE_MARKER },
    });
    expect(Object.keys(body.Contractor as object)).toEqual(['Ext_ID', 'INN', 'Name', 'KPP']);
    expect(documentBody(doc({ contractDocumentId: null }), ctx())).not.toHaveProperty('Contract');
  });

  it('derives RequestID as a UUIDv5 of connection, document and content: same content same id, changed content a new one', () => {
    const a = documentBody(doc(), ctx()).RequestID as string;
    expect(a).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
    expect(documentBody(doc(), ctx()).RequestID).toBe(a);
    expect(documentBody(doc({ contentHash: 'h2' }), ctx()).RequestID).not.toBe(a);
    expect(documentBody(doc(), ctx({ amountUnit: 'kopecks' })).RequestID).not.toBe(a);
    expect(documentBody(doc(), { ...ctx(), connectionId: 'other' }).RequestID).not.toBe(a);
    expect(requestIdOf(CONN, DOC, 'h1')).toBe(requestIdOf(CONN, DOC, 'h1'));
  });

  it('computes RFC 4122 v5 ids (the RFC example: DNS namespace, "www.example.com")', () => {
    const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
    expect(uuidV5('www.example.com', dns).toLowerCase()).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('sends a payment as the invoice-payment call on the invoice record, with PaymentNumber, PaymentDate, Signed and no file', () => {
    const body = paymentBody(pay(), doc(), ctx());
    expect(body).toMatchObject({ Ext_ID: DOC, DocNumber: '15', DocTypeId: 6, PaymentNumber: 'п/п 3-3', PaymentDate: '07.06.2026', Signed: true, Binaries: { FileName: '', FileBase64: '' } });
    expect(body.RequestID).not.toBe(documentBody(doc(), ctx()).RequestID);
    expect(paymentBody(pay(), doc(), ctx()).RequestID).toBe(body.RequestID);
    expect(paymentBody(pay({ id: 'another' }), doc(), ctx()).RequestID).not.toBe(body.RequestID);
  });

  it("sends a paid invoice with the payment call's PaymentNumber, PaymentDate and Signed: true, and its file; an unpaid one without them", () => {
    const p = pay();
    const paid = documentBody(doc({ payment: { id: p.id, name: p.name, date: p.date }, contentHash: 'h2' }), ctx());
    const call = paymentBody(p, doc(), ctx());
    expect(paid).toMatchObject({ Ext_ID: DOC, DocNumber: '15', PaymentNumber: call.PaymentNumber, PaymentDate: call.PaymentDate, Signed: true, Binaries: { FileName: 'schet-15.pdf', FileBase64: FILE_MARKER } });
    // The payment's id stands in for a blank name, as in the payment call.
    expect(documentBody(doc({ payment: { id: p.id, name: '  ', date: p.date } }), ctx()).PaymentNumber).toBe(paymentBody(pay({ name: '  ' }), doc(), ctx()).PaymentNumber);
    const unpaid = documentBody(doc(), ctx());
    expect(unpaid).toMatchObject({ Signed: false });
    expect(unpaid).not.toHaveProperty('PaymentNumber');
    expect(unpaid).not.toHaveProperty('PaymentDate');
    expect(paid.RequestID).not.toBe(unpaid.RequestID);
  });
});
