import { cutToCharacters, PaymentQrFieldError, paymentQrPayload, sanitizeQrValue, type PaymentQrInput } from './payment-qr';

const tochka: PaymentQrInput = {
  name: 'ИП Артиков Тимур Дилшодович',
  personalAcc: '40802810220000499329',
  bankName: 'ООО "Банк Точка"',
  bic: '044525104',
  correspAcc: '30101810745374525104',
};

describe(paymentQrPayload.name, () => {
  it('builds the required part in GOST order with the UTF-8 header', () => {
    expect(paymentQrPayload(tochka)).toBe(
      'ST00012|Name=ИП Артиков Тимур Дилшодович|PersonalAcc=40802810220000499329|' +
        'BankName=ООО "Банк Точка"|BIC=044525104|CorrespAcc=30101810745374525104',
    );
  });

  it('appends optional fields in a fixed order, sum in kopecks', () => {
    const payload = paymentQrPayload({
      kpp: '773601001',
      payeeInn: '501817999160',
      purpose: 'Оплата по счёту № 15 от 05.06.2026',
      sumKopecks: 5_000_050,
      ...tochka,
    });
    expect(payload).toBe(
      'ST00012|Name=ИП Артиков Тимур Дилшодович|PersonalAcc=40802810220000499329|' +
        'BankName=ООО "Банк Точка"|BIC=044525104|CorrespAcc=30101810745374525104|' +
        'Sum=5000050|Purpose=Оплата по счёту № 15 от 05.06.2026|PayeeINN=501817999160|KPP=773601001',
    );
  });

  it('omits absent, undefined and blank optional fields', () => {
    const payload = paymentQrPayload({ ...tochka, purpose: '   ', payeeInn: undefined, sumKopecks: 100 });
    expect(payload.endsWith('|CorrespAcc=30101810745374525104|Sum=100')).toBe(true);
  });

  it('places extra fields after KPP', () => {
    const payload = paymentQrPayload({ ...tochka, uin: '0', payerInn: '7707083893', kpp: '773601001', contract: 'Д-1' });
    expect(payload.split('|').slice(6)).toEqual(['KPP=773601001', 'PayerINN=7707083893', 'Contract=Д-1', 'UIN=0']);
  });

  it('replaces "|" with "/", flattens line breaks and trims values', () => {
    const payload = paymentQrPayload({ ...tochka, name: '  ООО "Рога|Копыта"  ', purpose: 'Счёт 1|2\nза июнь ' });
    expect(payload).toContain('|Name=ООО "Рога/Копыта"|');
    expect(payload).toContain('|Purpose=Счёт 1/2 за июнь');
    expect(payload.split('|')).toHaveLength(7);
  });

  it('turns tabs and other control characters into spaces', () => {
    const payload = paymentQrPayload({ ...tochka, purpose: 'Счёт\t1\u0000за\u007fиюнь' });
    expect(payload).toContain('|Purpose=Счёт 1 за июнь');
  });

  it('cuts text to the standard\'s maximum, by characters: Name 160, BankName 45, Purpose 210', () => {
    const payload = paymentQrPayload({ ...tochka, name: 'Я'.repeat(161), bankName: 'Б'.repeat(60), purpose: `${'П'.repeat(209)}😀 хвост` });
    const fields = Object.fromEntries(payload.split('|').slice(1).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
    expect(fields['Name']).toBe('Я'.repeat(160));
    expect(fields['BankName']).toBe('Б'.repeat(45));
    // 210 characters, the emoji (two UTF-16 units) whole, not half of it.
    expect(fields['Purpose']).toBe(`${'П'.repeat(209)}😀`);
    expect(paymentQrPayload({ ...tochka, purpose: 'П'.repeat(210) })).toContain(`|Purpose=${'П'.repeat(210)}`);
  });

  it('counts a decomposed letter as one character and never cuts a grapheme in half', () => {
    const fieldsOf = (payload: string) => Object.fromEntries(payload.split('|').slice(1).map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
    // "й" as и + U+0306 (NFD, as macOS writes names): composed, 160 of them fit whole.
    const nfd = 'и\u0306'.repeat(161);
    expect(fieldsOf(paymentQrPayload({ ...tochka, name: nfd }))['Name']).toBe('й'.repeat(160));
    // A letter with a combining mark that has no composed form, and a flag, at the cut: left out whole.
    const purpose = `${'П'.repeat(209)}\u0430\u0301 хвост`;
    expect(fieldsOf(paymentQrPayload({ ...tochka, purpose }))['Purpose']).toBe('П'.repeat(209));
    const flag = `${'П'.repeat(209)}🇷🇺`;
    expect(fieldsOf(paymentQrPayload({ ...tochka, purpose: flag }))['Purpose']).toBe('П'.repeat(209));
    expect(cutToCharacters('ab👍🏽c', 3)).toBe('ab');
    expect(cutToCharacters('ab👍🏽c', 4)).toBe('ab👍🏽');
    expect(cutToCharacters('abc', 5)).toBe('abc');
  });

  it('refuses a code longer than the standard allows instead of cutting it into another one', () => {
    expect(() => paymentQrPayload({ ...tochka, cbc: '182101020100110001101' })).toThrow(expect.objectContaining({ field: 'cbc' }));
    expect(() => paymentQrPayload({ ...tochka, oktmo: '452860000001' })).toThrow(expect.objectContaining({ field: 'oktmo' }));
    expect(paymentQrPayload({ ...tochka, cbc: '18210102010011000110', oktmo: '45286000' })).toContain('|CBC=18210102010011000110|OKTMO=45286000');
  });

  it('accepts "0" as the correspondent account', () => {
    expect(paymentQrPayload({ ...tochka, correspAcc: '0' })).toContain('|CorrespAcc=0');
  });

  it.each(['name', 'personalAcc', 'bankName', 'bic', 'correspAcc'] as const)('requires %s', (field) => {
    const input = { ...tochka, [field]: '  ' };
    expect(() => paymentQrPayload(input)).toThrow(PaymentQrFieldError);
    expect(() => paymentQrPayload(input)).toThrow(expect.objectContaining({ field }));

    const missing: Partial<PaymentQrInput> = { ...tochka };
    delete missing[field];
    expect(() => paymentQrPayload(missing as PaymentQrInput)).toThrow(expect.objectContaining({ field }));
  });

  it.each([
    ['personalAcc', '4080281022000049932'],
    ['bic', '04452510'],
    ['correspAcc', '301018107453745251'],
  ] as const)('rejects a malformed %s', (field, value) => {
    expect(() => paymentQrPayload({ ...tochka, [field]: value })).toThrow(expect.objectContaining({ field }));
  });

  it.each([
    ['sumKopecks', 0],
    ['sumKopecks', -100],
    ['sumKopecks', 10.5],
    ['payeeInn', '501817999161'],
    ['payerInn', '123'],
    ['kpp', '77360100'],
  ] as const)('rejects an invalid %s (%p)', (field, value) => {
    expect(() => paymentQrPayload({ ...tochka, [field]: value })).toThrow(expect.objectContaining({ field }));
  });

  it('produces a named, typed error', () => {
    try {
      paymentQrPayload({ ...tochka, bic: '' });
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(PaymentQrFieldError);
      expect((error as PaymentQrFieldError).name).toBe('PaymentQrFieldError');
      expect((error as PaymentQrFieldError).message).toContain('"bic"');
    }
  });
});

describe(sanitizeQrValue.name, () => {
  it('is idempotent', () => {
    const once = sanitizeQrValue(' a|b\r\nc ');
    expect(once).toBe('a/b c');
    expect(sanitizeQrValue(once)).toBe(once);
  });
});
