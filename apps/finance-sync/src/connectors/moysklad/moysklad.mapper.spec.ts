import type { ContractorData, DocumentData, PaymentData } from '../connector';
import {
  counterpartyBody,
  counterpartyUpdate,
  idOfMeta,
  invoiceOutBody,
  momentOfDate,
  momentOfIso,
  paymentBody,
  remotePayment,
  syncIdOf,
  uuidV5,
  type MoyskladSettings,
} from './moysklad.mapper';

const BASE = 'https://api.moysklad.ru/api/remap/1.2';
const CONN = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const C = '0f8fad5b-d9cb-469f-a165-70867728950e';
const P = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const ORG = '11111111-1111-4111-8111-111111111111';
const ITEM = '22222222-2222-4222-8222-222222222222';
const AGENT = '33333333-3333-4333-8333-333333333333';
const INVOICE = '44444444-4444-4444-8444-444444444444';
const settings: MoyskladSettings = { organizationId: ORG, expenseItemId: ITEM, tokenKind: 'user' };

const contractor = (over: Partial<ContractorData> = {}): ContractorData => ({
  id: C,
  type: 2,
  name: 'ПАО СБЕРБАНК',
  inn: '7707083893',
  kpp: '773601001',
  address: 'Москва',
  ogrn: '1027700132195',
  legalName: 'ПУБЛИЧНОЕ АКЦИОНЕРНОЕ ОБЩЕСТВО "СБЕРБАНК РОССИИ"',
  legalAddress: '117312, г Москва, ул Вавилова, д 19',
  banks: [{ uuid: P, bik: '044525225', number: '40702810900000000001', name: 'ПАО Сбербанк' }],
  ...over,
});

const payment = (over: Partial<PaymentData> = {}): PaymentData => ({
  id: P,
  type: 'income',
  name: 'Оплата по счёту 7',
  sum: 150_050,
  date: '2026-11-30',
  interactionId: C,
  contractorId: C,
  contractorRemoteId: AGENT,
  projectRemoteId: '',
  invoice: { id: C, sum: 300_000, remoteId: INVOICE },
  ...over,
});

describe('moysklad mapper', () => {
  it('derives syncId as an RFC 4122 UUIDv5 of the connection and the entity', () => {
    // The RFC's own example namespace (DNS) and a well-known v5 value.
    expect(uuidV5(CONN, 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    const id = syncIdOf(CONN, 'paymentin', P);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(syncIdOf(CONN, 'paymentin', P.toUpperCase())).toBe(id);
    expect(syncIdOf(CONN, 'paymentout', P)).not.toBe(id);
    expect(syncIdOf('9ba7b810-9dad-11d1-80b4-00c04fd430c8', 'paymentin', P)).not.toBe(id);
  });

  it('makes a legal-entity counterparty from fullInfo, with its accounts, externalCode and syncId', () => {
    expect(counterpartyBody(contractor(), CONN)).toEqual({
      name: 'ПАО СБЕРБАНК',
      companyType: 'legal',
      inn: '7707083893',
      kpp: '773601001',
      ogrn: '1027700132195',
      legalTitle: 'ПУБЛИЧНОЕ АКЦИОНЕРНОЕ ОБЩЕСТВО "СБЕРБАНК РОССИИ"',
      legalAddress: '117312, г Москва, ул Вавилова, д 19',
      accounts: [{ accountNumber: '40702810900000000001', bic: '044525225', bankName: 'ПАО Сбербанк', isDefault: true }],
      externalCode: C,
      syncId: syncIdOf(CONN, 'counterparty', C),
      description: `[papka:${C}]`,
    });
  });

  it('sends an ИП OGRN as ogrnip without KPP, and falls back to the contractor own name and address without fullInfo', () => {
    const ip = counterpartyBody(contractor({ type: 1, inn: '501817999160', kpp: '123', ogrn: '304500116000157', legalName: null, legalAddress: null, banks: [] }), CONN);
    expect(ip).toMatchObject({ companyType: 'entrepreneur', ogrnip: '304500116000157', legalTitle: 'ПАО СБЕРБАНК', legalAddress: 'Москва' });
    expect(ip).not.toHaveProperty('ogrn');
    expect(ip).not.toHaveProperty('kpp');
    expect(ip).not.toHaveProperty('accounts');
    expect(counterpartyBody(contractor({ type: 3, ogrn: null }), CONN)).toMatchObject({ companyType: 'individual' });
    expect(counterpartyUpdate(contractor(), CONN)).not.toHaveProperty('syncId');
    // Never externalCode: an adopted counterparty keeps the account's own (its 1C link).
    expect(counterpartyUpdate(contractor(), CONN)).not.toHaveProperty('externalCode');
  });

  it('puts payments at 00:00:00 Moscow time, in kopecks, linked to a synced invoice with the whole payment', () => {
    const body = paymentBody(payment(), settings, BASE, CONN);
    expect(body).toMatchObject({
      organization: { meta: { href: `${BASE}/entity/organization/${ORG}`, type: 'organization', mediaType: 'application/json' } },
      agent: { meta: { href: `${BASE}/entity/counterparty/${AGENT}`, type: 'counterparty' } },
      sum: 150_050,
      moment: '2026-11-30 00:00:00',
      externalCode: P,
      syncId: syncIdOf(CONN, 'paymentin', P),
      operations: [{ meta: { href: `${BASE}/entity/invoiceout/${INVOICE}`, type: 'invoiceout' }, linkedSum: 150_050 }],
    });
    expect(body).not.toHaveProperty('expenseItem');
    expect(paymentBody(payment({ invoice: { id: C, sum: 1, remoteId: null } }), settings, BASE, CONN)).not.toHaveProperty('operations');
  });

  it('gives every paymentout the expense item and never links it to an invoiceout', () => {
    const out = paymentBody(payment({ type: 'outcome' }), settings, BASE, CONN);
    expect(out).toMatchObject({ expenseItem: { meta: { href: `${BASE}/entity/expenseitem/${ITEM}`, type: 'expenseitem' } }, syncId: syncIdOf(CONN, 'paymentout', P) });
    expect(out).not.toHaveProperty('operations');
    expect(() => paymentBody(payment({ type: 'outcome' }), { ...settings, expenseItemId: '' }, BASE, CONN)).toThrow(/expense item/);
  });

  it('makes an invoiceout of the counterparty with the sum in kopecks and the Moscow date of creation', () => {
    const d = { id: P, name: 'Счёт № 7', sum: 300_000, createdAt: '2026-11-30T22:30:00.000Z' } as DocumentData;
    expect(invoiceOutBody(d, AGENT, { ...settings, organizationAccountId: ITEM }, BASE, CONN)).toMatchObject({
      agent: { meta: { href: `${BASE}/entity/counterparty/${AGENT}` } },
      sum: 300_000,
      moment: '2026-12-01 01:30:00',
      externalCode: P,
      syncId: syncIdOf(CONN, 'invoiceout', P),
      organizationAccount: { meta: { href: `${BASE}/entity/organization/${ORG}/accounts/${ITEM}`, type: 'account' } },
    });
    expect(momentOfIso('2026-06-01T00:00:00Z')).toBe('2026-06-01 03:00:00');
    expect(() => momentOfDate('30.11.2026')).toThrow();
  });

  it('reads a payment back, recognising ours by its syncId', () => {
    const e = { meta: { type: 'paymentout' }, id: INVOICE, externalCode: P, syncId: syncIdOf(CONN, 'paymentout', P), sum: 150050, moment: '2026-11-30 00:00:00.000', agent: { meta: { href: `${BASE}/entity/counterparty/${AGENT}` } } };
    expect(remotePayment(e, CONN)).toMatchObject({ remoteId: INVOICE, entityId: P, type: 'outcome', sum: 150_050, date: '2026-11-30', contractorRemoteId: AGENT });
    expect(remotePayment({ ...e, syncId: syncIdOf(CONN, 'paymentin', P) }, CONN).entityId).toBeNull();
    expect(idOfMeta({ meta: { href: `${BASE}/entity/invoiceout/${INVOICE}` } })).toBe(INVOICE);
  });
});
