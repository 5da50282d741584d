import { decimalToKopecks, markerOf } from '../connector';
import { importedIdOf, isoDate, projectForm, remotePayment, requisitesForm, transactionItem } from './adesk.mapper';

const P = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('adesk mapper', () => {
  it('sends kopecks as exact rubles and reads Adesk strings back to the same kopecks', () => {
    for (const k of [1, 29, 115, 1010, 123_456_789, 9_007_199_254_740_991]) {
      const item = transactionItem({ id: P, type: 'income', name: 'Оплата', sum: k, date: '2025-01-02', contractorRemoteId: '7', projectRemoteId: '9' }, { bankAccountId: 3 }, 'abcd1234');
      expect(decimalToKopecks((item.amount as number).toFixed(2))).toBe(k);
    }
    expect(decimalToKopecks('2010.00')).toBe(201000);
    expect(decimalToKopecks('0.5')).toBe(50);
    expect(decimalToKopecks('-15.75')).toBe(-1575);
  });

  it('puts the correlation id and the marker on every transaction, and links by number ids', () => {
    const item = transactionItem({ id: P, type: 'outcome', name: 'x'.repeat(600), sum: 100, date: '2025-01-02', contractorRemoteId: '7', projectRemoteId: '9' }, { bankAccountId: 3, outcomeCategoryId: 5 }, 'abcd1234');
    expect(item).toMatchObject({ type: 'outcome', bankAccountId: 3, contractorId: 7, projectId: 9, categoryId: 5, importedId: `papka:abcd1234:${P}` });
    expect((item.description as string).length).toBeLessThanOrEqual(510);
    expect(markerOf(item.description as string)).toBe(P);
    expect(importedIdOf('abcd1234', P).length).toBeLessThanOrEqual(100);
  });

  it('keeps INN, KPP, BIK and account numbers as strings (leading zeros, 20 digits)', () => {
    const form = requisitesForm('12', { id: P, name: 'ООО', inn: '0123456789', kpp: '012301001', address: null, banks: [] }, { uuid: P, bik: '044525225', number: '40702810900000000001', name: 'р/с' });
    expect(form).toMatchObject({ contractor: '12', inn: '0123456789', kpp: '012301001', bank_code: '044525225', bank_account_number: '40702810900000000001' });
  });

  it('makes a deal project with its contractor and plan income in rubles', () => {
    expect(projectForm({ id: P, name: 'Сделка', sum: 150_050, contractorRemoteId: '4' })).toMatchObject({ type: 'deal', plan_income: '1500.5', deal_contractor: '4' });
  });

  it('reads every date format Adesk answers', () => {
    expect(isoDate({ dateIso: '2025-07-01' })).toBe('2025-07-01');
    expect(isoDate({ dateIso: '2018.12.20' })).toBe('2018-12-20');
    expect(isoDate({ date: '01.07.2025' })).toBe('2025-07-01');
  });

  it('finds our payment in a remote object by importedId, else by the marker', () => {
    expect(remotePayment({ id: 5, type: 1, amount: '10.00', dateIso: '2025-01-01', importedId: `papka:abcd1234:${P}` }, 'abcd1234').entityId).toBe(P);
    expect(remotePayment({ id: 5, type: 2, amount: '10.00', date: '2025-01-01', description: `Оплата [papka:${P}]` }, 'abcd1234')).toMatchObject({ entityId: P, type: 'outcome', sum: 1000 });
    expect(remotePayment({ id: 5, type: 1, amount: '10.00', date: '2025-01-01', importedId: 'adesk:zzz' }, 'abcd1234').entityId).toBeNull();
  });
});
