import { decimalToKopecks, documentKindOf, MAPPING_KIND } from './connector';
import { parseAdeskSettings } from './adesk/adesk.connector';
import { CONNECTED_TARGETS, CONNECTORS, targetsTaking } from './index';

describe('the connector port', () => {
  it('reads a document kind from its built-in template first, then from the free-text type', () => {
    expect(documentKindOf({ templateId: '61d0fed1-e842-42ba-b2cc-b9423a2a02fa', type: 'Что угодно' })).toBe('invoice');
    expect(documentKindOf({ templateId: 'a103cc3d-43c3-46c1-804c-72bd5a5e68c5', type: 'Счёт' })).toBe('contract');
    expect(['Счёт', 'счет на оплату', 'Invoice', ' СЧЁТ №5'].map((type) => documentKindOf({ templateId: null, type }))).toEqual(['invoice', 'invoice', 'invoice', 'invoice']);
    expect(documentKindOf({ templateId: null, type: 'Акт' })).toBe('act');
    expect(documentKindOf({ templateId: null, type: 'Договор поставки' })).toBe('contract');
    expect(documentKindOf({ templateId: null, type: 'Счёт-фактура' })).toBeNull();
    expect(documentKindOf({ templateId: null, type: 'Накладная' })).toBeNull();
  });

  it('parses decimal text to kopecks without floating point', () => {
    expect(decimalToKopecks('2010.5')).toBe(201050);
    expect(decimalToKopecks('0.07')).toBe(7);
    expect(decimalToKopecks('1 234,56')).toBe(123456);
    expect(decimalToKopecks('abc')).toBeNaN();
  });

  it('derives the connected targets and who takes what from the one registry', () => {
    expect(CONNECTED_TARGETS).toEqual(CONNECTORS.map((d) => d.target));
    expect(new Set(CONNECTED_TARGETS).size).toBe(CONNECTED_TARGETS.length);
    expect(targetsTaking('interaction')).toContain('adesk');
    for (const d of CONNECTORS) for (const type of d.entities) expect(targetsTaking(type)).toContain(d.target);
    expect(Object.keys(MAPPING_KIND).sort()).toEqual(['contractor', 'document', 'interaction', 'payment']);
  });

  it('checks Adesk settings itself, naming the field (the PUT body no longer does)', () => {
    expect(parseAdeskSettings({ bankAccountId: '12', incomeCategoryId: 3 })).toEqual({ bankAccountId: 12, incomeCategoryId: 3 });
    expect(() => parseAdeskSettings({ bankAccountId: 'abc' })).toThrow(expect.objectContaining({ field: 'settings.bankAccountId' }));
    expect(() => parseAdeskSettings({ outcomeCategoryId: 0 })).toThrow(expect.objectContaining({ field: 'settings.outcomeCategoryId' }));
    expect(() => parseAdeskSettings({ baseUrl: 'https://x' })).toThrow(expect.objectContaining({ field: 'settings.baseUrl' }));
  });
});
