import { ConnectorError } from '../connector';
import { billingMoment, filterDate, numbersAsText, parseDocumentsPage, strictKopecks } from './billing.mapper';

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
    expect(strictKopecks('75446.00', 'x')).toBe(7_544_600);
    expect(strictKopecks('166.67', 'x')).toBe(16_667);
    expect(strictKopecks('1.13', 'x')).toBe(113); // 1.13 * 100 = 112.99999999999999
    expect(strictKopecks('-1000.00', 'x')).toBe(-100_000);
    expect(strictKopecks('0.5', 'x')).toBe(50);
    expect(strictKopecks('12', 'x')).toBe(1200);
    expect(strictKopecks('12.3400', 'x')).toBe(1234);
    for (const bad of ['1.005', '1e3', '1,5', '', 'abc']) expect(() => strictKopecks(bad, 'documents.0.totalSum')).toThrow(ConnectorError);
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

  it('refuses an unknown type or status, and a body with success false', () => {
    expect(() => parseDocumentsPage('{"success":true,"documents":[{"id":"1","type":"INVOICE","date":"2021-06-03 15:17:42"}]}')).toThrow(/type/);
    expect(() => parseDocumentsPage('{"success":true,"documents":[{"id":"1","type":"BILL","status":"DONE","date":"2021-06-03 15:17:42"}]}')).toThrow(/status/);
    expect(() => parseDocumentsPage('{"success":false,"message":"bad size"}')).toThrow(/bad size/);
    expect(() => parseDocumentsPage('<html>')).toThrow(/not JSON/);
  });

  it("writes and reads 001's dates in Moscow time", () => {
    expect(filterDate(new Date('2026-12-01T21:00:05.900Z'))).toBe('2026-12-02T00:00:05');
    expect(billingMoment('2021-06-03 15:17:42').toISOString()).toBe('2021-06-03T12:17:42.000Z');
  });
});
