import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { ContractorType, type ContractorSnapshot, type OrganizationSnapshot } from '@papka/contracts';
import { compileTemplate, renderHtml } from '../engine/handlebars-engine';
import { BUILTIN_TEMPLATES, builtinTemplate, builtinTemplateByKind, type BuiltinKind } from './builtin';
import type { PaymentQr } from './payment-qr';
import { buildTemplateData, checkNewBuiltinMasks, TemplateDataError, validateBuiltinMasks, withOrganizationVat, type TemplateDataInput } from './template-data';

const NBSP = '\u00A0';
const rub = (text: string) => text.replace(/ /g, NBSP);
const NOW = new Date('2026-06-05T09:00:00Z');

const organization: OrganizationSnapshot = {
  accountId: '8d6f4a52-0000-4000-8000-000000000001',
  inn: '7707083893',
  kpp: '773601001',
  ogrn: '1027700132195',
  name: 'ООО «Ромашка»',
  address: '117312, г. Москва, ул. Вавилова, д. 19',
  director: 'Иванов Иван Иванович',
  directorPost: 'ГЕНЕРАЛЬНЫЙ ДИРЕКТОР',
  bankAccounts: [
    {
      id: 'b1',
      bik: '044525225',
      number: '40702810938000012345',
      name: 'Расчетный счёт',
      fullInfo: {
        value: 'ПАО Сбербанк',
        data: { bic: '044525225', correspondent_account: '30101810400000000225', name: { payment: 'ПАО СБЕРБАНК' }, payment_city: 'г Москва' },
      },
    },
  ],
  fullInfo: null,
  updatedAt: '2026-06-01T00:00:00.000Z',
};

const contractor: ContractorSnapshot = {
  uuid: '5b0c2a4e-0000-4000-8000-000000000002',
  type: ContractorType.IndividualEntrepreneur,
  mainInfo: { name: 'ИП Артиков Тимур Дилшодович', inn: '501817999160', address: 'Московская обл., г. Щёлково' },
  bankInfo: [],
  contactInfo: [{ id: 'p1', fio: 'Артиков Т. Д.', phone: '+7 916 123-45-67', post: null, email: null }],
  fullInfo: { value: 'ИП Артиков Тимур Дилшодович', data: { ogrn: '324508100678148', type: 'INDIVIDUAL', fio: { surname: 'Артиков', name: 'Тимур', patronymic: 'Дилшодович' } } },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

const oneLine = (price: number, title = 'Разработка сайта') => [{ title, measure: 'усл.', quantity: 1, price }];

async function renderBuiltin(kind: BuiltinKind, masks: Record<string, unknown>, extra: Partial<TemplateDataInput> = {}) {
  const template = builtinTemplateByKind(kind);
  const data = await buildTemplateData(kind, { masks, organization, contractor, now: NOW, ...extra });
  return { data, html: renderHtml(compileTemplate(template.source), data, { font: template.font }) };
}

function decodeQr(dataUri: string): string {
  const prefix = 'data:image/png;base64,';
  expect(dataUri.startsWith(prefix)).toBe(true);
  const png = PNG.sync.read(Buffer.from(dataUri.slice(prefix.length), 'base64'));
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  if (!code) throw new Error('QR code not found in the image');
  return Buffer.from(code.binaryData).toString('utf8');
}

describe('BUILTIN_TEMPLATES', () => {
  it('has one template per kind with a fixed UUID, a download name and masks', () => {
    expect(BUILTIN_TEMPLATES.map((t) => t.kind)).toEqual(['invoice', 'act', 'contract', 'letter']);
    expect(new Set(BUILTIN_TEMPLATES.map((t) => t.uuid)).size).toBe(4);
    for (const t of BUILTIN_TEMPLATES) {
      expect(t.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(t.filename).toMatch(/^[a-z-]+\.html$/);
      expect(t.masks.length).toBeGreaterThan(0);
      expect(builtinTemplate(t.uuid)).toBe(t);
    }
    expect(builtinTemplate('61d0fed1-e842-42ba-b2cc-b9423a2a02fa')?.name).toBe('Счёт на оплату');
    expect(builtinTemplate('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('compiles under the same rules as uploaded templates', () => {
    for (const t of BUILTIN_TEMPLATES) expect(() => compileTemplate(t.source)).not.toThrow();
  });
});

describe('Счёт на оплату', () => {
  it('renders a 50 000 ₽ invoice without VAT with the total in words', async () => {
    const { data, html } = await renderBuiltin('invoice', { number: '15', date: '2026-06-05', lines: oneLine(5_000_000), vatRate: 'none' });
    expect(html).toContain('Счёт на оплату № 15 от 5 июня 2026 г.');
    expect(html).toContain('Пятьдесят тысяч рублей 00 копеек');
    expect(html).toContain('<tr><td>Без НДС:</td><td>—</td></tr>');
    expect(html).toContain(`<tr><td>Всего к оплате:</td><td>${rub('50 000,00')}</td></tr>`);
    expect(html).toContain(`Всего наименований 1, на сумму ${rub('50 000,00')} руб.`);
    expect(data).toMatchObject({ totals: { net: 5_000_000, vat: 0, total: 5_000_000 }, vatRate: 'none' });
  });

  it('adds 22 % VAT on top of net prices by default in 2026', async () => {
    const { data, html } = await renderBuiltin('invoice', { number: '16', date: '2026-06-05', lines: oneLine(1_000_000) });
    expect(data).toMatchObject({ vatRate: 22, vatMode: 'on-top', totals: { net: 1_000_000, vat: 220_000, total: 1_220_000 } });
    expect(html).toContain(`<tr><td>Итого:</td><td>${rub('10 000,00')}</td></tr>`);
    expect(html).toContain(`<tr><td>НДС 22%:</td><td>${rub('2 200,00')}</td></tr>`);
    expect(html).toContain(`<tr><td>Всего к оплате:</td><td>${rub('12 200,00')}</td></tr>`);
    expect(html).toContain('Двенадцать тысяч двести рублей 00 копеек');
  });

  it('shows VAT included in gross prices as "В том числе"', async () => {
    const { data, html } = await renderBuiltin('invoice', { number: '17', lines: oneLine(1_220_000), vatRate: '22', vatMode: 'included' });
    expect(data).toMatchObject({ totals: { net: 1_000_000, vat: 220_000, total: 1_220_000 } });
    expect(html).toContain(`<tr><td>Итого:</td><td>${rub('12 200,00')}</td></tr>`);
    expect(html).toContain(`<tr><td>В том числе НДС 22%:</td><td>${rub('2 200,00')}</td></tr>`);
    expect(html).toContain(`<tr><td>Всего к оплате:</td><td>${rub('12 200,00')}</td></tr>`);
  });

  it('takes the base VAT rate of the document date and dates a dateless invoice today (Moscow)', async () => {
    const { data } = await renderBuiltin('invoice', { number: '1', date: '2025-12-31', lines: oneLine(100_000) });
    expect(data).toMatchObject({ vatRate: 20, totals: { vat: 20_000 } });
    const late = await renderBuiltin('invoice', { number: '2', lines: oneLine(100) }, { now: new Date('2026-01-31T22:00:00Z') });
    expect(late.data).toMatchObject({ date: '2026-02-01', vatRate: 22 });
  });

  it('lists the lines with quantities, prices and sums, seller and buyer requisites and signatures', async () => {
    const lines = [
      { title: 'Доставка', measure: 'км', quantity: 12.5, price: 4_000 },
      { title: 'Грузчики', measure: 'час', quantity: 3, price: 90_000 },
    ];
    const { html } = await renderBuiltin('invoice', { number: '18', lines, vatRate: '10', dueDate: '2026-06-15' });
    expect(html).toContain(`<td class="num">12,5</td>\n      <td class="center">км</td>\n      <td class="num">40,00</td>\n      <td class="num">500,00</td>`);
    expect(html).toContain(`<td class="num">3</td>\n      <td class="center">час</td>\n      <td class="num">900,00</td>\n      <td class="num">${rub('2 700,00')}</td>`);
    expect(html).toContain('ООО «Ромашка», ИНН 7707083893, КПП 773601001, 117312, г. Москва, ул. Вавилова, д. 19');
    expect(html).toContain('ИП Артиков Тимур Дилшодович, ИНН 501817999160, Московская обл., г. Щёлково, тел.: +7 916 123-45-67');
    expect(html).toContain('ПАО СБЕРБАНК г. Москва');
    expect(html).toContain('<td class="value" rowspan="2">40702810938000012345</td>');
    expect(html).toContain('<td class="value no-top">30101810400000000225</td>');
    expect(html).toContain('<td class="value no-bottom">044525225</td>');
    expect(html).toContain('Оплатить не позднее 15.06.2026.');
    expect(html.match(/<td class="name">Иванов И\. И\.<\/td>/g)).toHaveLength(2);
    expect(html).toContain('Всего наименований 2');
  });

  it('carries a payment QR that decodes to exactly the ГОСТ Р 56042-2014 payload', async () => {
    const { data, html } = await renderBuiltin('invoice', { number: '15', date: '2026-06-05', lines: oneLine(5_000_000), vatRate: 'none' });
    const expected =
      'ST00012|Name=ООО «Ромашка»|PersonalAcc=40702810938000012345|BankName=ПАО СБЕРБАНК|BIC=044525225' +
      '|CorrespAcc=30101810400000000225|Sum=5000000|Purpose=Оплата по счёту № 15 от 05.06.2026. НДС не облагается|PayeeINN=7707083893|KPP=773601001';
    const qr = data['qr'] as PaymentQr;
    expect(qr.payload).toBe(expected);
    expect(decodeQr(qr.dataUri)).toBe(expected);
    expect(html).toContain('<img src="data:image/png;base64,');
    // The escaped attribute still decodes to the same image.
    expect(html).toContain(`src="${qr.dataUri.replace(/=/g, '&#x3D;')}"`);
  });

  it('uses the purpose mask, cleaned for the QR', async () => {
    const { data, html } = await renderBuiltin('invoice', { number: '3', lines: oneLine(123_456), vatRate: 'none', purpose: 'Оплата | аванс' });
    expect(decodeQr((data['qr'] as PaymentQr).dataUri)).toContain('|Sum=123456|Purpose=Оплата / аванс. НДС не облагается|PayeeINN=7707083893');
    expect(html).toContain('Назначение платежа: Оплата | аванс. НДС не облагается');
  });

  it('says the VAT in the purpose, printed and in the QR, unless the given purpose already does', async () => {
    const onTop = await renderBuiltin('invoice', { number: '8', date: '2026-06-05', lines: oneLine(1_000_000), vatRate: '22' });
    expect(onTop.data['purpose']).toBe('Оплата по счёту № 8 от 05.06.2026. В т.ч. НДС 22% - 2200,00 руб.');
    expect((onTop.data['qr'] as PaymentQr).payload).toContain('|Sum=1220000|Purpose=Оплата по счёту № 8 от 05.06.2026. В т.ч. НДС 22% - 2200,00 руб.|');
    const included = await renderBuiltin('invoice', { number: '9', lines: oneLine(122_001), vatRate: '10', vatMode: 'included', purpose: 'Аванс.' });
    expect(included.data['purpose']).toBe('Аванс. В т.ч. НДС 10% - 110,91 руб.');
    const own = await renderBuiltin('invoice', { number: '10', lines: oneLine(100_000), vatRate: '22', purpose: 'Аванс, в т.ч. НДС 22%' });
    expect(own.data['purpose']).toBe('Аванс, в т.ч. НДС 22%');
  });

  it('adds the VAT clause after any ending of the given purpose without doubling its punctuation', async () => {
    const purposeOf = async (purpose: string) => (await renderBuiltin('invoice', { number: '1', lines: oneLine(100_000), vatRate: 'none', purpose })).data['purpose'];
    expect(await purposeOf('Аванс!')).toBe('Аванс! НДС не облагается');
    expect(await purposeOf('Оплата по счёту № 1, ')).toBe('Оплата по счёту № 1. НДС не облагается');
    expect(await purposeOf('Оплата;')).toBe('Оплата. НДС не облагается');
    // "налогового" is not НДС: the clause is still added; "без НДС" is.
    expect(await purposeOf('Оплата услуг по ведению налогового учёта')).toBe('Оплата услуг по ведению налогового учёта. НДС не облагается');
    expect(await purposeOf('Оплата, без НДС')).toBe('Оплата, без НДС');
  });

  it('keeps the QR purpose within 210 characters with its VAT clause whole, cut at a word', async () => {
    // A stored document's purpose from before the length check: cut for the QR, whole in print.
    const { data } = await renderBuiltin('invoice', { number: '11', lines: oneLine(100_000), vatRate: '22', purpose: 'Услуги '.repeat(40) });
    const purpose = /\|Purpose=([^|]*)\|/.exec((data['qr'] as PaymentQr).payload)![1]!;
    expect(Array.from(purpose).length).toBeLessThanOrEqual(210);
    expect(purpose).toMatch(/^(Услуги )+Услуги\. В т\.ч\. НДС 22% - 220,00 руб\.$/);
    expect(String(data['purpose'])).toBe(`${'Услуги '.repeat(40).trimEnd()}. В т.ч. НДС 22% - 220,00 руб.`);
  });

  it('has no QR, and no bank name, while the bank of the account was never looked up', async () => {
    const notLookedUp: OrganizationSnapshot = {
      ...organization,
      bankAccounts: [{ id: 'b2', bik: '044525104', number: '40802810220000499329', name: 'Расчетный счёт', fullInfo: null }],
    };
    const { data, html } = await renderBuiltin('invoice', { number: '3', lines: oneLine(123_456) }, { organization: notLookedUp });
    expect(data['qr']).toBeNull();
    expect(html).not.toContain('<img');
    expect(html).not.toContain('Расчетный счёт');
    expect(html).toContain('<td class="value no-bottom">044525104</td>');
  });

  it('renders a very long number: its QR purpose is cut, the code still decodes', async () => {
    const { data, html } = await renderBuiltin('invoice', { number: 'N'.repeat(3_000), lines: oneLine(100_000) });
    const qr = data['qr'] as PaymentQr;
    expect(decodeQr(qr.dataUri)).toBe(qr.payload);
    expect(qr.payload).toMatch(/\|Purpose=Оплата по счёту № N+\. В т\.ч\. НДС 22% - 220,00 руб\.\|/);
    expect(html).toContain(`Счёт на оплату № ${'N'.repeat(3_000)}`);
  });

  it('signs an entrepreneur\'s invoice once, as "Индивидуальный предприниматель"', async () => {
    const ip: OrganizationSnapshot = { ...organization, inn: '501817999160', kpp: null, name: 'ИП Иванов Иван Иванович' };
    const { html } = await renderBuiltin('invoice', { number: '12', lines: oneLine(100_000) }, { organization: ip });
    expect(html).toContain('<td class="role">Индивидуальный предприниматель</td>');
    expect(html).not.toContain('Бухгалтер');
    expect(html.match(/<td class="name">Иванов И\. И\.<\/td>/g)).toHaveLength(1);
  });

  it('renders without organisation requisites: a notice instead of the seller, no QR', async () => {
    const { data, html } = await renderBuiltin('invoice', { number: '4', lines: oneLine(100_000) }, { organization: null });
    expect(data['qr']).toBeNull();
    expect(html).not.toContain('<img');
    expect(html).toContain('Реквизиты организации не заполнены');
  });

  it('has no QR when the organisation has no bank account', async () => {
    const { data, html } = await renderBuiltin('invoice', { number: '5', lines: oneLine(100_000) }, { organization: { ...organization, bankAccounts: [] } });
    expect(data['qr']).toBeNull();
    expect(html).not.toContain('<img');
    expect(html).toContain('ООО «Ромашка», ИНН 7707083893');
  });

  it('escapes mask values: a <script> title is text', async () => {
    const { html } = await renderBuiltin('invoice', {
      number: '<b>6</b>',
      lines: oneLine(100, '<script>alert(1)</script>'),
      purpose: '"><img src=x>',
    });
    expect(html).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(html).toContain('Счёт на оплату № &lt;b&gt;6&lt;/b&gt;');
    expect(html).toContain('Назначение платежа: &quot;&gt;&lt;img src&#x3D;x&gt;');
    expect(html).not.toMatch(/<script|<b>6|<img src=x/);
  });
});

describe('Акт выполненных работ', () => {
  it('renders lines, totals, words, the acceptance statement and both signature blocks', async () => {
    const { html } = await renderBuiltin('act', {
      number: 'А-7',
      date: '2026-06-30',
      lines: oneLine(5_000_000, 'Сопровождение сайта, июнь'),
      vatRate: 'none',
      basis: 'Договор № 5 от 01.06.2026',
    });
    expect(html).toContain('Акт № А-7 от 30 июня 2026 г.');
    expect(html).toContain('<td class="req">Договор № 5 от 01.06.2026</td>');
    expect(html).toContain('<td>Сопровождение сайта, июнь</td>');
    expect(html).toContain(`Всего оказано услуг 1, на сумму ${rub('50 000,00')} руб.`);
    expect(html).toContain('Пятьдесят тысяч рублей 00 копеек');
    expect(html).toContain(
      'Вышеперечисленные услуги выполнены полностью и в срок. Заказчик претензий по объему, качеству и срокам оказания услуг не имеет.',
    );
    expect(html).toContain('ИСПОЛНИТЕЛЬ');
    expect(html).toContain('ЗАКАЗЧИК');
    expect(html).toContain('<div>Иванов И. И.</div>');
    expect(html).toContain('<div>Артиков Т. Д.</div>');
    expect(html).toContain('<div class="post">Генеральный директор</div>');
    expect(html).toContain('<div class="post">Индивидуальный предприниматель</div>');
  });

  it('gives our own ИП the post "Индивидуальный предприниматель" under its signature on an act, as a contractor ИП has', async () => {
    const ip: OrganizationSnapshot = { ...organization, inn: '501817999160', kpp: null, name: 'ИП Иванов Иван Иванович', directorPost: null, fullInfo: null };
    const { data } = await renderBuiltin('act', { number: '2', lines: oneLine(100_000) }, { organization: ip });
    expect((data.organization as { directorPost: string | null }).directorPost).toBe('Индивидуальный предприниматель');
  });

  it('shows 20 % VAT on top for a 2025 act', async () => {
    const { html } = await renderBuiltin('act', { number: '1', date: '2025-12-01', lines: oneLine(1_000_000) });
    expect(html).toContain(`<tr><td>НДС 20%:</td><td>${rub('2 000,00')}</td></tr>`);
    expect(html).toContain(`<tr><td>Всего:</td><td>${rub('12 000,00')}</td></tr>`);
  });
});

describe('Договор оказания услуг', () => {
  it('renders the standard sections with the price in words and both parties’ requisites', async () => {
    const { html } = await renderBuiltin('contract', {
      number: '5',
      date: '2026-06-01',
      subject: 'Разработка сайта.\nПоддержка сайта в течение года.',
      sum: '150000',
      term: 'до 31 декабря 2026 г.',
    });
    expect(html).toContain('ДОГОВОР ОКАЗАНИЯ УСЛУГ № 5');
    expect(html).toContain('<td>г. Москва</td><td class="right">«1» июня 2026 г.</td>');
    expect(html).toContain('<p>Разработка сайта.</p><p>Поддержка сайта в течение года.</p>');
    // The base rate of the date, inside the price: 150 000 × 22 / 122.
    expect(html).toContain(`Стоимость Услуг по Договору составляет ${rub('150 000,00')} руб. (Сто пятьдесят тысяч рублей 00 копеек), в том числе НДС 22% — ${rub('27 049,18')} руб.</p>`);
    expect(html).toContain('Срок оказания Услуг: до 31 декабря 2026 г.</p>');
    for (const section of ['1. Предмет договора', '2. Стоимость и порядок расчётов', '3. Права и обязанности сторон', '4. Ответственность сторон', '5. Срок действия договора', '6. Реквизиты и подписи сторон']) {
      expect(html).toContain(`<h2>${section}</h2>`);
    }
    expect(html).toContain('<div>Р/с 40702810938000012345</div>');
    expect(html).toContain('<div>БИК 044525225, к/с 30101810400000000225</div>');
    expect(html).toContain('<div>ОГРНИП 324508100678148</div>');
    expect(html).toContain("body { font-family: 'Liberation Serif', serif; }");
  });

  it('takes the city from its mask and the price from the document when the sum mask is empty', async () => {
    const { html } = await renderBuiltin('contract', { number: '6', subject: 'Уборка', city: 'г. Казань', paymentTerms: '100% предоплата.' }, { sum: 1_234_500 });
    expect(html).toContain('<td>г. Казань</td>');
    expect(html).toContain(`${rub('12 345,00')} руб. (Двенадцать тысяч триста сорок пять рублей 00 копеек)`);
    expect(html).toContain('<p>100% предоплата.</p>');
  });

  it('says "НДС не облагается" at the rate none, and the rate alone without a price', async () => {
    const none = await renderBuiltin('contract', { number: '7', subject: 'Уборка', sum: '1000', vatRate: 'none' });
    expect(none.html).toContain(`составляет ${rub('1 000,00')} руб. (Одна тысяча рублей 00 копеек), НДС не облагается.</p>`);
    const noPrice = await renderBuiltin('contract', { number: '8', date: '2026-02-01', subject: 'Уборка', vatRate: '10' });
    expect(noPrice.html).toContain('согласованных Сторонами заявок, включая НДС по ставке 10%.</p>');
    // As the constructor stores a contract made with no price: the document's sum 0, not a price of 0,00.
    const storedZero = await renderBuiltin('contract', { number: '8', date: '2026-02-01', subject: 'Уборка', vatRate: '10' }, { sum: 0 });
    expect(storedZero.html).toContain('согласованных Сторонами заявок, включая НДС по ставке 10%.</p>');
    expect(storedZero.html).not.toContain('0,00');
    expect(validateBuiltinMasks('contract', { number: '9', subject: 'x', vatRate: '18' })).toMatchObject({ ok: false, errors: { 'masks.vatRate': [expect.any(String)] } });
  });
});

describe('a bank not looked up yet (no name)', () => {
  const unnamed: OrganizationSnapshot = { ...organization, bankAccounts: [{ id: 'b3', bik: '044525104', number: '40802810220000499329', name: 'Расчетный счёт', fullInfo: null }] };

  it.each(['contract', 'letter'] as const)('leaves the %s without a dangling "в" before the missing bank name', async (kind) => {
    const masks = kind === 'contract' ? { number: '1', subject: 'Уборка' } : { body: 'Текст' };
    const { html } = await renderBuiltin(kind, masks, { organization: unnamed });
    const text = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('40802810220000499329');
    expect(text).not.toMatch(/(^|\s)в\s*,/);
    expect(text).not.toMatch(/(^|\s)в\s+БИК/);
  });
});

describe(checkNewBuiltinMasks.name, () => {
  const at = new Date('2026-06-10T09:00:00Z');
  const lines = [{ title: 'x', measure: 'шт', quantity: 1, price: 100_000 }];

  it('refuses a due date before the date, and 22 % before 2026, naming the mask', () => {
    expect(checkNewBuiltinMasks('invoice', { date: '2026-06-05', dueDate: '2026-06-04', lines }, at)).toEqual({ 'masks.dueDate': [expect.stringContaining('05.06.2026')] });
    expect(checkNewBuiltinMasks('invoice', { date: '2026-06-05', dueDate: '2026-06-05', lines }, at)).toBeNull();
    expect(checkNewBuiltinMasks('act', { date: '2025-12-31', vatRate: '22', lines }, at)).toEqual({ 'masks.vatRate': [expect.any(String)] });
    expect(checkNewBuiltinMasks('contract', { date: '2026-01-01', vatRate: '22' }, at)).toBeNull();
    // 20 % after 2026 stays possible (an advance for a 2025 shipment).
    expect(checkNewBuiltinMasks('invoice', { date: '2026-02-01', vatRate: '20', lines }, at)).toBeNull();
    expect(checkNewBuiltinMasks('letter', { date: '2026-06-05', dueDate: '2026-01-01' }, at)).toBeNull();
  });

  it("refuses the УСН payer's 5 % and 7 % on a date before 2025, when they did not exist, and takes them from 1 January 2025", () => {
    expect(checkNewBuiltinMasks('invoice', { date: '2024-06-01', vatRate: '5', lines }, at)).toEqual({ 'masks.vatRate': ['vatRate 5 applies from 01.01.2025'] });
    expect(checkNewBuiltinMasks('act', { date: '2024-12-31', vatRate: '7', lines }, at)).toEqual({ 'masks.vatRate': ['vatRate 7 applies from 01.01.2025'] });
    expect(checkNewBuiltinMasks('invoice', { date: '2025-01-01', vatRate: '5', lines }, at)).toBeNull();
    expect(checkNewBuiltinMasks('contract', { date: '2024-06-01', vatRate: '10' }, at)).toBeNull();
  });

  it('dates a dateless document as its render does: the Moscow day it is made', () => {
    expect(checkNewBuiltinMasks('invoice', { dueDate: '2026-06-09', lines }, at)).toEqual({ 'masks.dueDate': [expect.stringContaining('10.06.2026')] });
    expect(checkNewBuiltinMasks('invoice', { dueDate: '2026-06-10', lines }, at)).toBeNull();
    // 23:30 on 31 December in Moscow is still 2025 there: no 22 %.
    expect(checkNewBuiltinMasks('invoice', { vatRate: '22', lines }, new Date('2025-12-31T20:30:00Z'))).toEqual({ 'masks.vatRate': [expect.any(String)] });
  });

  it('refuses a purpose that does not fit 210 characters with its VAT clause', () => {
    const clause = '. В т.ч. НДС 22% - 220,00 руб.';
    const fits = 'П'.repeat(210 - clause.length);
    expect(checkNewBuiltinMasks('invoice', { purpose: fits, vatRate: '22', lines }, at)).toBeNull();
    expect(checkNewBuiltinMasks('invoice', { purpose: `${fits}П`, vatRate: '22', lines }, at)).toEqual({ 'masks.purpose': [expect.stringContaining('211')] });
    // One that names its VAT itself gets no clause, so it may use all 210.
    expect(checkNewBuiltinMasks('invoice', { purpose: `НДС не облагается ${'П'.repeat(192)}`, lines }, at)).toBeNull();
  });
});

describe(withOrganizationVat.name, () => {
  const at = new Date('2026-06-10T09:00:00Z');

  it("gives an invoice, act or contract that names no VAT rate the organisation's default", () => {
    for (const kind of ['invoice', 'act', 'contract'] as const) {
      expect(withOrganizationVat(kind, { number: '1' }, 'none', at)).toEqual({ number: '1', vatRate: 'none' });
      expect(withOrganizationVat(kind, { number: '1', vatRate: '10' }, 'none', at)).toEqual({ number: '1', vatRate: '10' });
      expect(withOrganizationVat(kind, { number: '1' }, null, at)).toEqual({ number: '1' });
    }
    expect(withOrganizationVat('letter', { body: 'x' }, 'none', at)).toEqual({ body: 'x' });
    expect(withOrganizationVat('invoice', { number: '1' }, 'garbage', at)).toEqual({ number: '1' });
  });

  it('does not give 22 % to a document dated before 2026: the base rate of its date stays', () => {
    expect(withOrganizationVat('invoice', { number: '1', date: '2025-12-31' }, '22', at)).toEqual({ number: '1', date: '2025-12-31' });
    expect(withOrganizationVat('invoice', { number: '1', date: '2025-12-31' }, 'none', at)).toEqual({ number: '1', date: '2025-12-31', vatRate: 'none' });
  });
});

describe('Письмо', () => {
  it('renders the letterhead, one paragraph per line (escaped) and the signer', async () => {
    const { html } = await renderBuiltin('letter', {
      number: '12/06',
      date: '2026-06-05',
      subject: 'О продлении договора',
      body: 'Уважаемый Тимур Дилшодович!\n\nПредлагаем продлить договор <b>на год</b>.\r\nС уважением.',
    });
    expect(html).toContain('<div class="org">ООО «Ромашка»</div>');
    expect(html).toContain('ИНН 7707083893 / КПП 773601001, ОГРН 1027700132195');
    expect(html).toContain('Исх. № 12/06');
    expect(html).toContain('<div class="subject">О продлении договора</div>');
    expect(html).toContain('<p>Уважаемый Тимур Дилшодович!</p><p>Предлагаем продлить договор &lt;b&gt;на год&lt;/b&gt;.</p><p>С уважением.</p>');
    expect(html).toContain('<td>Генеральный директор</td>');
    expect(html).toContain('<td class="name">Иванов И. И.</td>');
  });

  it('uses the signer masks when given', async () => {
    const { html } = await renderBuiltin('letter', { body: 'Текст', signerPost: 'Главный бухгалтер', signerName: 'Петрова А. С.' });
    expect(html).toContain('<td>Главный бухгалтер</td>');
    expect(html).toContain('<td class="name">Петрова А. С.</td>');
  });
});

describe('buildTemplateData', () => {
  it('rejects invalid masks with errors keyed by mask', async () => {
    await expect(buildTemplateData('invoice', { masks: { lines: [] }, organization, contractor: null })).rejects.toMatchObject({
      errors: { 'masks.number': ['number is required'], 'masks.lines': ['lines must be a non-empty array of lines'] },
    });
    await expect(buildTemplateData('invoice', { masks: { number: '1', lines: oneLine(100), vatRate: '18' }, organization, contractor: null })).rejects.toThrow(
      TemplateDataError,
    );
    await expect(
      buildTemplateData('act', { masks: { number: '1', lines: oneLine(100), vatMode: 'sometimes' }, organization, contractor: null }),
    ).rejects.toMatchObject({ errors: { 'masks.vatMode': ['vatMode must be on-top or included'] } });
  });

  it('validateBuiltinMasks also checks the VAT rate and mode, for use when a document is created', () => {
    expect(validateBuiltinMasks('invoice', { number: '1', lines: oneLine(100), vatRate: 22, vatMode: 'included' })).toMatchObject({
      ok: true,
      values: { vatRate: '22', vatMode: 'included' },
    });
    expect(validateBuiltinMasks('act', { number: '1', lines: oneLine(100), vatRate: '18', vatMode: 'inside' })).toEqual({
      ok: false,
      errors: { 'masks.vatRate': ['vatRate must be one of 22, 20, 10, 7, 5, 0, none'], 'masks.vatMode': ['vatMode must be on-top or included'] },
    });
    expect(validateBuiltinMasks('letter', { body: 'Текст', vatRate: '18' })).toMatchObject({ ok: true, values: { body: 'Текст' } });
  });

  it('shows a notice for a missing contractor', async () => {
    const { html } = await renderBuiltin('act', { number: '1', lines: oneLine(100) }, { contractor: null });
    expect(html).toContain('Реквизиты контрагента не заполнены');
  });
});
