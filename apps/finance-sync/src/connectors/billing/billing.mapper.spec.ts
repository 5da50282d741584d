import { ConnectorError } from '../connector';
import { billingMoment, filterDate, numbersAsText, parseDocumentsPage, rublesToKopecks } from './billing.mapper';

/** 001's own example answer, as printed there (its `// NEW, ...` comment removed: it is not JSON). */
const SAMPLE_001 = String.raw`{
    "success": true,
    "recordsTotal": 14,
    "documents": [
        {
            "id": "222",
            "type": "BILL",
            "status": "PAID", 
            "title": "Счет на аванс.",
            "date": "2021-06-03 15:17:42",
            "vatSum": 166.67,
            "totalSum": 1000.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Сумма аванса 40%",
                    "description": null,
                    "measure": null,
                    "amount": 1.00,
                    "price": 0.00,
                    "totalSum": 1000.00
                }
            ],
            "relations": []
        },
        {
            "id": "333",
            "type": "BILL",
            "status": "PAID",
            "title": "Счет на доплату.",
            "date": "2021-06-03 15:17:42",
            "vatSum": 12574.33,
            "totalSum": 75446.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Крепеж бирки",
                    "description": null,
                    "measure": "ед. товара",
                    "amount": 100.00,
                    "price": 12.00,
                    "totalSum": 1200.00
                },
                {
                    "num": 2,
                    "title": "Мелкоячеечное хранение",
                    "description": null,
                    "measure": "ячейка/сутки",
                    "amount": 100.00,
                    "price": 13.20,
                    "totalSum": 1320.00
                },
                {
                    "num": 3,
                    "title": "Дополнительные работы по запросу Заказчика",
                    "description": null,
                    "measure": "час",
                    "amount": 555.00,
                    "price": 133.20,
                    "totalSum": 73926.00
                },
                {
                    "num": 4,
                    "title": "Сумма переплаты",
                    "description": null,
                    "measure": null,
                    "amount": 1.00,
                    "price": 0.00,
                    "totalSum": -1000.00
                }
            ],
            "relations": []
        },
        {
            "id": "1025",
            "type": "EXPENSE",
            "subType": "POSTPAID",
            "status": "AWAITING_PAYMENT",
            "title": "Списание",
            "description": "Оплата за услуги за апрель",
            "date": "2021-06-03 15:17:26",
            "deadline": "2021-06-17 01:00:00",
            "vatSum": 12574.33,
            "totalSum": 75446.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Крепеж бирки",
                    "description": null,
                    "measure": "ед. товара",
                    "amount": 100.00,
                    "price": 12.00,
                    "totalSum": 1200.00
                },
                {
                    "num": 2,
                    "title": "Мелкоячеечное хранение",
                    "description": null,
                    "measure": "ячейка/сутки",
                    "amount": 100.00,
                    "price": 13.20,
                    "totalSum": 1320.00
                },
                {
                    "num": 3,
                    "title": "Дополнительные работы по запросу Заказчика",
                    "description": null,
                    "measure": "час",
                    "amount": 555.00,
                    "price": 133.20,
                    "totalSum": 73926.00
                },
                {
                    "num": 4,
                    "title": "Сумма переплаты",
                    "description": null,
                    "measure": null,
                    "amount": 1.00,
                    "price": 0.00,
                    "totalSum": -1000.00
                }
            ],
            "relations": []
        },
        {
            "id": "1024",
            "type": "EXPENSE",
            "subType": "PREPAYMENT",
            "status": "AWAITING_PAYMENT",
            "title": "Списание",
            "description": "Аванс за апрель",
            "date": "2021-06-03 15:17:21",
            "deadline": "2021-06-17 01:00:00",
            "vatSum": 167.00,
            "totalSum": 1000.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Сумма аванса 40%",
                    "description": null,
                    "measure": null,
                    "amount": 1.00,
                    "price": 0.00,
                    "totalSum": 1000.00
                }
            ],
            "relations": []
        },
        {
            "id": "111",
            "type": "REPORT",
            "title": "Акт выполненных работ за апрель 2021",
            "date": "2021-06-03 15:16:19",
            "vatSum": 12741.00,
            "totalSum": 76446.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Крепеж бирки",
                    "description": null,
                    "measure": "ед. товара",
                    "amount": 100.00,
                    "price": 12.00,
                    "totalSum": 1200.00
                },
                {
                    "num": 2,
                    "title": "Мелкоячеечное хранение",
                    "description": null,
                    "measure": "ячейка/сутки",
                    "amount": 100.00,
                    "price": 13.20,
                    "totalSum": 1320.00
                },
                {
                    "num": 3,
                    "title": "Дополнительные работы по запросу Заказчика",
                    "description": null,
                    "measure": "час",
                    "amount": 555.00,
                    "price": 133.20,
                    "totalSum": 73926.00
                }
            ],
            "relations": []
        },
        {
            "id": "1023",
            "type": "EXPENSE",
            "subType": "POSTPAID",
            "status": "AWAITING_PAYMENT",
            "title": "Списание по акту выполненных работ",
            "date": "2021-06-03 14:54:03",
            "deadline": "2021-06-17 01:00:00",
            "vatSum": 12574.33,
            "totalSum": 75446.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Крепеж бирки",
                    "description": null,
                    "measure": "ед. товара",
                    "amount": 100.00,
                    "price": 12.00,
                    "totalSum": 1200.00
                },
                {
                    "num": 2,
                    "title": "Мелкоячеечное хранение",
                    "description": null,
                    "measure": "ячейка/сутки",
                    "amount": 100.00,
                    "price": 13.20,
                    "totalSum": 1320.00
                },
                {
                    "num": 3,
                    "title": "Дополнительные работы по запросу Заказчика",
                    "description": null,
                    "measure": "час",
                    "amount": 555.00,
                    "price": 133.20,
                    "totalSum": 73926.00
                },
                {
                    "num": 4,
                    "title": "Сумма переплаты",
                    "description": null,
                    "measure": null,
                    "amount": 1.00,
                    "price": 0.00,
                    "totalSum": -1000.00
                }
            ],
            "relations": []
        },
        {
            "id": "1022",
            "type": "EXPENSE",
            "subType": "PREPAYMENT",
            "status": "AWAITING_PAYMENT",
            "title": "Списание аванса.",
            "date": "2021-06-03 14:53:57",
            "deadline": "2021-06-17 01:00:00",
            "vatSum": 167.00,
            "totalSum": 1000.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Сумма аванса 40%",
                    "description": null,
                    "measure": null,
                    "amount": 1.00,
                    "price": 0.00,
                    "totalSum": 1000.00
                }
            ],
            "relations": []
        },
        {
            "id": "22252",
            "type": "PAYMENT",
            "title": "Поступление",
            "date": "2021-06-03 10:20:00",
            "vatSum": 0.00,
            "totalSum": 76446.00,
            "balanceSum": 0.00,
            "relations": [
                {
                    "id": "333",
                    "type": "BILL",
                    "title": "Счет на доплату.",
                    "date": "2021-06-03 15:17:42",
                    "relationSum": 75446.00
                },
                {
                    "id": "222",
                    "type": "BILL",
                    "title": "Счет на аванс.",
                    "date": "2021-06-03 15:17:42",
                    "relationSum": 1000.00
                }
            ]
        },
        {
            "id": "1021",
            "type": "EXPENSE",
            "subType": "POSTPAID",
            "status": "AWAITING_PAYMENT",
            "title": "Списание по акту выполненных работ",
            "date": "2021-06-03 10:18:27",
            "deadline": "2021-06-17 01:00:00",
            "vatSum": 12741.00,
            "totalSum": 76446.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Крепеж бирки",
                    "description": null,
                    "measure": "ед. товара",
                    "amount": 100.00,
                    "price": 12.00,
                    "totalSum": 1200.00
                },
                {
                    "num": 2,
                    "title": "Мелкоячеечное хранение",
                    "description": null,
                    "measure": "ячейка/сутки",
                    "amount": 100.00,
                    "price": 13.20,
                    "totalSum": 1320.00
                },
                {
                    "num": 3,
                    "title": "Дополнительные работы по запросу Заказчика",
                    "description": null,
                    "measure": "час",
                    "amount": 555.00,
                    "price": 133.20,
                    "totalSum": 73926.00
                }
            ],
            "relations": []
        },
        {
            "id": "33333",
            "type": "BILL",
            "status": "PAID",
            "title": "Счет \"Оплата по договору\"",
            "date": "2021-05-28 10:53:00",
            "vatSum": 12741.00,
            "totalSum": 76446.00,
            "balanceSum": 0.00,
            "items": [
                {
                    "num": 1,
                    "title": "Крепеж бирки",
                    "description": null,
                    "measure": "ед. товара",
                    "amount": 100.00,
                    "price": 10.00,
                    "totalSum": 1200.00
                },
                {
                    "num": 2,
                    "title": "Мелкоячеечное хранение",
                    "description": null,
                    "measure": "ячейка/сутки",
                    "amount": 100.00,
                    "price": 11.00,
                    "totalSum": 1320.00
                },
                {
                    "num": 3,
                    "title": "Дополнительные работы по запросу Заказчика",
                    "description": null,
                    "measure": "час",
                    "amount": 555.00,
                    "price": 111.00,
                    "totalSum": 73926.00
                }
            ],
            "relations": []
        }
    ]
}`;

const sample001 = (): string => SAMPLE_001;

describe('billing mapper', () => {
  it('turns number tokens into their text, leaving strings alone', () => {
    expect(numbersAsText('{"a":1.10,"b":"x 2.5 \\"3\\"","c":[-1000.00,0.07,true,null],"d":1e3}')).toBe('{"a":"1.10","b":"x 2.5 \\"3\\"","c":["-1000.00","0.07",true,null],"d":"1e3"}');
  });

  it('makes kopecks from the decimal text, never through a float', () => {
    expect(rublesToKopecks('75446.00', 'x')).toBe(7_544_600);
    expect(rublesToKopecks('166.67', 'x')).toBe(16_667);
    expect(rublesToKopecks('1.13', 'x')).toBe(113); // 1.13 * 100 = 112.99999999999999
    expect(rublesToKopecks('-1000.00', 'x')).toBe(-100_000);
    expect(rublesToKopecks('0.5', 'x')).toBe(50);
    expect(rublesToKopecks('12', 'x')).toBe(1200);
    expect(rublesToKopecks('12.3400', 'x')).toBe(1234);
    for (const bad of ['1,5', '', 'abc', '.5', '1.', '1e', '--1', '0x10', '1'.repeat(101)]) expect(() => rublesToKopecks(bad, 'documents.0.totalSum')).toThrow(ConnectorError);
  });

  it('takes float rubles as a Java double writes them: exponents, and unrounded values rounded to kopecks half up, exactly', () => {
    expect(rublesToKopecks('1.0E7', 'x')).toBe(1_000_000_000);
    expect(rublesToKopecks('1.2345678E7', 'x')).toBe(1_234_567_800);
    expect(rublesToKopecks('1.23456789012E7', 'x')).toBe(1_234_567_890); // 12345678.9012 ₽
    expect(rublesToKopecks('1000.0', 'x')).toBe(100_000);
    expect(rublesToKopecks('1e3', 'x')).toBe(100_000);
    expect(rublesToKopecks('5.0E-4', 'x')).toBe(0);
    expect(rublesToKopecks('5.0E-3', 'x')).toBe(1); // half a kopeck, up
    expect(rublesToKopecks('166.66666666666666', 'x')).toBe(16_667); // 1000 / 6
    expect(rublesToKopecks('33.333333333333336', 'x')).toBe(3_333);
    // Half a kopeck goes up (away from zero), by the decimal text: 1.005 as a double is 1.00499999999999989...
    expect(rublesToKopecks('1.005', 'x')).toBe(101);
    expect(rublesToKopecks('1.00499999999999989', 'x')).toBe(100);
    expect(rublesToKopecks('-1.005', 'x')).toBe(-101);
    expect(rublesToKopecks('-0.004', 'x')).toBe(0);
    expect(Object.is(rublesToKopecks('-0.00', 'x'), 0)).toBe(true);
    expect(rublesToKopecks('0.0000000000000000000000000001', 'x')).toBe(0);
    expect(rublesToKopecks('90071992547409.91', 'x')).toBe(Number.MAX_SAFE_INTEGER);
    for (const big of ['90071992547409.92', '1.0E300', '1e999999999999']) expect(() => rublesToKopecks(big, 'x')).toThrow(/too large/);
    expect(rublesToKopecks('1e-999999999999', 'x')).toBe(0);
  });

  it("parses a page with Jackson's doubles and a date-only deadline into exact kopecks", () => {
    const page = parseDocumentsPage(
      '{"success":true,"recordsTotal":1,"documents":[{"id":"7","type":"EXPENSE","subType":"POSTPAID","status":"AWAITING_PAYMENT","title":"x","date":"2021-06-03 15:17:43","deadline":"2021-06-17",' +
        '"vatSum":166.66666666666666,"totalSum":1.0E7,"balanceSum":1000.0,"items":[{"num":1,"title":"a","amount":3.0,"price":3333.3333333333335,"totalSum":1.0E7}],"relations":[]}]}',
    );
    expect(page.rejected).toEqual([]);
    expect(page.documents[0]).toMatchObject({ vatSum: 16_667, totalSum: 1_000_000_000, balanceSum: 100_000, deadline: '2021-06-17' });
    expect(page.documents[0]!.items[0]).toMatchObject({ amount: '3.0', price: 333_333, totalSum: 1_000_000_000 });
  });

  it('sets aside a document it cannot map, with its reason, and reads the rest of the page', () => {
    const ok = '{"id":"2","type":"BILL","status":"PAID","title":"ok","date":"2021-06-03 15:17:42","vatSum":1.00,"totalSum":6.00,"balanceSum":0.00,"items":[],"relations":[]}';
    const bad = [
      ['{"id":"1","type":"BILL","status":"CANCELLED","title":"x","date":"2021-06-03 15:17:43","vatSum":0,"totalSum":1000,"balanceSum":0}', /status "CANCELLED" is not one of/],
      ['{"id":"1","type":"INVOICE","title":"x","date":"2021-06-03 15:17:43","vatSum":0,"totalSum":1000,"balanceSum":0}', /type "INVOICE" is not one of/],
      ['{"id":"1","type":"BILL","status":"NEW","title":"x","date":"2021-06-03 15:17:43","vatSum":0,"totalSum":"1,5","balanceSum":0}', /totalSum: "1,5" is not an amount/],
      ['{"id":"1","type":"BILL","status":"NEW","title":"x","date":"2021-06-03 25:17:43","vatSum":0,"totalSum":1,"balanceSum":0}', /date "2021-06-03 25:17:43" is not a date/],
      ['{"id":"1","type":"BILL","status":"NEW","title":"x","date":"2021-06-03","vatSum":0,"totalSum":1,"balanceSum":0}', /date "2021-06-03" is not a date/],
    ] as const;
    for (const [doc, reason] of bad) {
      const page = parseDocumentsPage(`{"success":true,"recordsTotal":3,"documents":[${ok.replace('"2"', '"3"')},${doc},${ok}]}`);
      expect(page.documents.map((d) => d.id)).toEqual(['3', '2']);
      expect(page.rejected).toHaveLength(1);
      expect(page.rejected[0]).toMatchObject({ position: 1, id: '1', reason: expect.stringMatching(reason) });
      expect(page.entries.map((e) => e.id)).toEqual(['3', '1', '2']);
      expect(page.rejected[0]!.raw).toEqual(JSON.parse(doc));
    }
    const odd = parseDocumentsPage(`{"success":true,"documents":[null,{"type":"BILL"},${ok}]}`);
    expect(odd.documents.map((d) => d.id)).toEqual(['2']);
    expect(odd.rejected.map((r) => [r.type, r.id, r.reason])).toEqual([
      [null, null, 'the document is not an object'],
      ['BILL', null, 'id is missing'],
    ]);
    expect(odd.entries).toHaveLength(3);
  });

  it("reads 001's example: ten documents of all four types, totals as given, relations of the payment", () => {
    const page = parseDocumentsPage(sample001());
    expect(page.recordsTotal).toBe(14);
    expect(page.documents).toHaveLength(10);
    expect(new Set(page.documents.map((d) => d.type))).toEqual(new Set(['BILL', 'EXPENSE', 'REPORT', 'PAYMENT']));
    const bill = page.documents.find((d) => d.id === '333')!;
    expect(bill).toMatchObject({ type: 'BILL', status: 'PAID', vatSum: 1_257_433, totalSum: 7_544_600, balanceSum: 0, date: '2021-06-03 15:17:42' });
    expect(bill.items[3]).toMatchObject({ num: 4, title: 'Сумма переплаты', amount: '1.00', price: 0, totalSum: -100_000 });
    // price × amount differs from the line's total (L371-373): the total is kept as given.
    const odd = page.documents.find((d) => d.id === '33333')!;
    expect(odd.items[0]).toMatchObject({ amount: '100.00', price: 1000, totalSum: 120_000 });
    const payment = page.documents.find((d) => d.type === 'PAYMENT')!;
    expect(payment.items).toEqual([]);
    expect(payment.status).toBeNull();
    expect(payment.relations).toEqual([
      { id: '333', type: 'BILL', title: 'Счет на доплату.', date: '2021-06-03 15:17:42', relationSum: 7_544_600 },
      { id: '222', type: 'BILL', title: 'Счет на аванс.', date: '2021-06-03 15:17:42', relationSum: 100_000 },
    ]);
    expect(page.documents.find((d) => d.id === '1025')).toMatchObject({ subType: 'POSTPAID', deadline: '2021-06-17 01:00:00', description: 'Оплата за услуги за апрель' });
    expect(bill.raw.totalSum).toBe(75446);
  });

  it('refuses an answer that is not a document list', () => {
    expect(() => parseDocumentsPage('{"success":false,"message":"bad size"}')).toThrow(/bad size/);
    expect(() => parseDocumentsPage('<html>')).toThrow(/not JSON/);
    expect(() => parseDocumentsPage('{"success":true}')).toThrow(/no documents array/);
  });

  it("writes and reads 001's dates in Moscow time", () => {
    expect(filterDate(new Date('2026-12-01T21:00:05.900Z'))).toBe('2026-12-02T00:00:05');
    expect(billingMoment('2021-06-03 15:17:42').toISOString()).toBe('2021-06-03T12:17:42.000Z');
  });
});
