import { runInNewContext } from 'node:vm';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AddContactDto, CreateContractorDto } from '../contractors/contractor.dto';
import { ConstructorDto, CreateTemplateDto } from '../documents/documents.dto';
import { UpdateOrganizationDto } from '../organization/organization.dto';
import { AttachDocumentDto, ListInteractionsQuery, RecordPaymentDto, SetInteractionStatusDto, UpdateInteractionDto } from '../interactions/interactions.dto';
import { RetryRecordsDto } from '../finance/finance.dto';

const fieldsWithErrors = <T extends object>(cls: new () => T, plain: object) =>
  validateSync(plainToInstance(cls, plain) as object, { whitelist: true, forbidNonWhitelisted: true }).map((e) => e.property);

describe('IsOmittable', () => {
  const ctor = { type: 'Счёт', name: 'Счёт № 1', contractor: '7d3c1f7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f' };

  it('lets the constructor leave sum out, and rejects "sum": null naming sum', () => {
    expect(fieldsWithErrors(ConstructorDto, ctor)).toEqual([]);
    expect(fieldsWithErrors(ConstructorDto, { ...ctor, sum: 100.5 })).toEqual([]);
    expect(fieldsWithErrors(ConstructorDto, { ...ctor, sum: null })).toEqual(['sum']);
  });

  it('does the same for PATCH interactions, as the create does', () => {
    expect(fieldsWithErrors(UpdateInteractionDto, { name: 'Этап 2' })).toEqual([]);
    expect(fieldsWithErrors(UpdateInteractionDto, { sum: '75000' })).toEqual([]);
    expect(fieldsWithErrors(UpdateInteractionDto, { sum: null })).toEqual(['sum']);
    // "name": null passed as if left out, and the PATCH answered 200 having changed nothing.
    expect(fieldsWithErrors(UpdateInteractionDto, { name: null })).toEqual(['name']);
  });
});

describe('toNumber', () => {
  const pay = { type: 'income', name: 'Оплата', date: '2025-09-22' };

  it('takes JSON numbers and decimal strings, and nothing that Number() would read otherwise', () => {
    for (const sum of [250.5, '250.50', ' 16 ', '16', '+5', '.5', '5.']) expect(fieldsWithErrors(RecordPaymentDto, { ...pay, sum })).toEqual([]);
    expect(plainToInstance(RecordPaymentDto, { ...pay, sum: '250.50' }).sum).toBe(250.5);
    // Number('0x10') is 16: a 16-ruble payment was recorded for "0x10".
    for (const sum of ['0x10', '0b11', '0o7', '1e3', '', 'Infinity', true, null]) expect(fieldsWithErrors(RecordPaymentDto, { ...pay, sum })).toEqual(['sum']);
    // class-validator's maxDecimalPlaces threw on these (no "." in "1e-7"): a 500.
    for (const sum of [1e-7, 5e-7, 0.001, 1e21]) expect(fieldsWithErrors(RecordPaymentDto, { ...pay, sum })).toEqual(['sum']);
    expect(fieldsWithErrors(ConstructorDto, { type: 'Счёт', name: 'Счёт', contractor: '7d3c1f7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f', sum: 1e-7 })).toEqual(['sum']);
  });

  it('reads a long run of digits in one pass, and leaves text longer than any amount for the validator to refuse', () => {
    // Under vm's watchdog: the old pattern split the digits every way it could (80,000 of them
    // held the validation pipe for 11 s), so a regression fails instead of hanging the suite.
    const errors = (sum: string) => runInNewContext('check()', { check: () => fieldsWithErrors(RecordPaymentDto, { ...pay, sum }) }, { timeout: 10_000 }) as string[];
    expect(errors(`${'1'.repeat(200_000)}x`)).toEqual(['sum']);
    expect(errors('1'.repeat(200_000))).toEqual(['sum']);
    expect(errors(`${'1'.repeat(12)}.50`)).toEqual([]);
  });

  it("takes a contractor's type as a decimal string too, as the other number fields do", () => {
    const ip = { inn: '501817999160', name: 'ИП Артиков Тимур Дилшодович' };
    expect(fieldsWithErrors(CreateContractorDto, { ...ip, type: '1' })).toEqual([]);
    expect(plainToInstance(CreateContractorDto, { ...ip, type: '1' }).type).toBe(1);
    for (const type of ['0x1', true, '4', '']) expect(fieldsWithErrors(CreateContractorDto, { ...ip, type })).toEqual(['type']);
  });

  it('does not make a status of true (it was 1: a cancelled deal set back to new)', () => {
    expect(fieldsWithErrors(SetInteractionStatusDto, { status: 2 })).toEqual([]);
    expect(fieldsWithErrors(SetInteractionStatusDto, { status: '2' })).toEqual([]);
    for (const status of [true, '0x2', null, '']) expect(fieldsWithErrors(SetInteractionStatusDto, { status })).toEqual(['status']);
    expect(fieldsWithErrors(ListInteractionsQuery, { status: '0x2' })).toEqual(['status']);
  });
});

describe('IsIsoDate', () => {
  it('takes a date or a date-time PostgreSQL takes, and names the field for the rest (they were 500s)', () => {
    // As before (PostgreSQL takes them all): .NET's 7-digit fractions, hour-only offsets, the basic format.
    for (const from of ['2025-09-22', '2025-09-22T10:00', '2025-09-22T10:00:00.123Z', '2025-09-22 10:00:00+03:00', '2024-02-29', '2025-09-22T10:00:00.1234567Z', '2025-09-22T10:00:00+03', '20250922'])
      expect(fieldsWithErrors(ListInteractionsQuery, { from, to: from })).toEqual([]);
    expect(fieldsWithErrors(RecordPaymentDto, { type: 'income', name: 'x', sum: 1, date: '2025-09-22T10:00:00.0000000+03:00' })).toEqual([]);
    // A payment's date is cut to its first ten characters: the basic format is not taken there.
    expect(fieldsWithErrors(RecordPaymentDto, { type: 'income', name: 'x', sum: 1, date: '20250922' })).toEqual(['date']);
    for (const from of ['2025', '2025-W05', '2025-02-30', '0000-01-01', '2025-09-22T25:00', '2025-001', 'вчера'])
      expect(fieldsWithErrors(ListInteractionsQuery, { from, to: from })).toEqual(['from', 'to']);
    expect(fieldsWithErrors(RecordPaymentDto, { type: 'income', name: 'x', sum: 1, date: '2025-02-30' })).toEqual(['date']);
  });
});

describe('a template mask\'s required', () => {
  const tpl = (required: unknown) => ({ name: 'Шаблон', filename: 'a1b2c3d4e5.html', masks: [{ id: 'number', name: 'Номер', type: 'string', required }] });

  it('takes true, false and their text; anything else names masks.0.required (Boolean("false") made the mask required)', () => {
    for (const v of [true, false, 'true', 'false', 1, 0, '1', '0', undefined]) expect(fieldsWithErrors(CreateTemplateDto, tpl(v))).toEqual([]);
    expect(plainToInstance(CreateTemplateDto, tpl(0)).masks[0]!.required).toBe(false);
    expect(plainToInstance(CreateTemplateDto, tpl('false')).masks[0]!.required).toBe(false);
    for (const v of ['no', 'yes', 2, {}]) {
      const errors = validateSync(plainToInstance(CreateTemplateDto, tpl(v)) as object);
      expect(JSON.stringify(errors)).toContain('required must be true or false');
    }
  });
});

describe('trimOrOmit', () => {
  it('takes a blank optional field (what a form sends) as left out, so the look-up fills it and an empty phone or KPP is no 400', () => {
    const c = plainToInstance(CreateContractorDto, { type: 2, inn: '7707083893', name: 'Сбер', address: '  ' });
    expect(c.address).toBeUndefined();
    expect(fieldsWithErrors(CreateContractorDto, { type: 3, inn: '', name: 'Иванов' })).toEqual([]);
    expect(fieldsWithErrors(AddContactDto, { fio: 'Тимур', phone: '', post: '', email: '' })).toEqual([]);
    const org = plainToInstance(UpdateOrganizationDto, { inn: '7707083893', kpp: '', name: '', address: '', director: ' ', directorPost: '' });
    expect(validateSync(org)).toEqual([]);
    expect([org.kpp, org.name, org.address, org.director, org.directorPost]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(plainToInstance(CreateContractorDto, { type: 2, name: 'Сбер', address: ' г Москва ' }).address).toBe('г Москва');
  });
});

describe('IsId', () => {
  const upper = '7D3C1F7E-1A2B-4C3D-8E9F-0A1B2C3D4E5F';

  it('takes an id written in capitals in lower case (one row, one aggregate, one Kafka key), and still refuses a non-UUID', () => {
    const ctor = plainToInstance(ConstructorDto, { type: 'Счёт', name: 'Счёт № 1', contractor: upper });
    expect(validateSync(ctor)).toEqual([]);
    expect(ctor.contractor).toBe(upper.toLowerCase());
    const attach = plainToInstance(AttachDocumentDto, { documentId: upper });
    expect(attach.documentId).toBe(upper.toLowerCase());
    expect(fieldsWithErrors(AttachDocumentDto, { documentId: 'not-a-uuid' })).toEqual(['documentId']);
    expect(fieldsWithErrors(AttachDocumentDto, { documentId: 42 })).toEqual(['documentId']);
  });

  it('does so for each id of an array', () => {
    const dto = plainToInstance(RetryRecordsDto, { target: 'adesk', ids: [upper, upper.toLowerCase()] });
    expect(dto.ids).toEqual([upper.toLowerCase(), upper.toLowerCase()]);
    expect(fieldsWithErrors(RetryRecordsDto, { target: 'adesk', ids: [upper, 'x'] })).toEqual(['ids']);
  });
});

describe('a contractor INN for its type', () => {
  const messages = (plain: object) =>
    Object.fromEntries(validateSync(plainToInstance(CreateContractorDto, plain) as object).map((e) => [e.property, Object.values(e.constraints ?? {})]));

  it('is reported with the other bad fields in one 400, not after them', () => {
    // A valid 12-digit INN (an ИП's) for a legal entity, and an empty name.
    expect(messages({ type: 2, inn: '501817999160', name: '' })).toEqual({
      inn: ['inn must have 10 digits for contractor type 2'],
      name: [expect.any(String)],
    });
    expect(messages({ type: 1, inn: '7707083893', name: 'ИП' })).toEqual({ inn: ['inn must have 12 digits for contractor type 1'] });
    expect(messages({ type: 3, inn: '501817999160', name: 'Петров' })).toEqual({});
    // A bad type is type's to report alone.
    expect(Object.keys(messages({ type: 9, inn: '501817999160', name: 'x' }))).toEqual(['type']);
  });
});

describe("the organisation's bankAccounts", () => {
  it('refuses null, naming bankAccounts (it kept the accounts while reading as clearing them); [] and leaving it out pass', () => {
    const org = { inn: '7707083893', name: 'ООО «Ромашка»' };
    expect(fieldsWithErrors(UpdateOrganizationDto, { ...org, bankAccounts: null })).toEqual(['bankAccounts']);
    expect(fieldsWithErrors(UpdateOrganizationDto, { ...org, bankAccounts: [] })).toEqual([]);
    expect(fieldsWithErrors(UpdateOrganizationDto, org)).toEqual([]);
  });
});
