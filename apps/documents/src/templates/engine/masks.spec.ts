import type { MaskDef } from '@papka/contracts';
import { MAX_TEXT_LENGTH, validateMasks } from './masks';

const defs: MaskDef[] = [
  { id: 'number', name: 'Номер', type: 'string', required: true },
  { id: 'note', name: 'Примечание', type: 'text' },
  { id: 'count', name: 'Количество', type: 'number' },
  { id: 'sum', name: 'Сумма', type: 'money' },
  { id: 'date', name: 'Дата', type: 'date' },
  { id: 'urgent', name: 'Срочно', type: 'boolean' },
  { id: 'lines', name: 'Позиции', type: 'lines' },
];

const line = { title: 'Консультация', measure: 'час', quantity: 2, price: 150_000 };

describe('validateMasks', () => {
  it('normalises valid values and ignores keys without a definition', () => {
    const result = validateMasks(defs, {
      number: ' 15 ',
      note: 'Строка 1\nСтрока 2',
      count: '2,5',
      sum: '1 500,50',
      date: '2026-06-05',
      urgent: 'true',
      lines: [line, { title: ' Доставка ', quantity: '1.5', price: 0 }],
      extra: '<ignored>',
    });
    expect(result).toEqual({
      ok: true,
      values: {
        number: '15',
        note: 'Строка 1\nСтрока 2',
        count: 2.5,
        sum: 150_050,
        date: '2026-06-05',
        urgent: true,
        lines: [line, { title: 'Доставка', measure: '', quantity: 1.5, price: 0 }],
      },
    });
  });

  it('takes a number for money as kopecks and a string as rubles', () => {
    expect(validateMasks(defs, { number: 1, sum: 5_000_000 })).toEqual({ ok: true, values: { number: '1', sum: 5_000_000 } });
    expect(validateMasks(defs, { number: 1, sum: '1500.50' })).toEqual({ ok: true, values: { number: '1', sum: 150_050 } });
    expect(validateMasks(defs, { number: 1, sum: '50000' })).toEqual({ ok: true, values: { number: '1', sum: 5_000_000 } });
  });

  it('reduces a timestamp to its Moscow calendar day', () => {
    expect(validateMasks(defs, { number: '1', date: '2026-06-04T21:30:00Z' })).toEqual({ ok: true, values: { number: '1', date: '2026-06-05' } });
  });

  it('requires required masks; empty and whitespace-only strings count as missing', () => {
    for (const number of [undefined, null, '', '   ']) {
      expect(validateMasks(defs, { number })).toEqual({ ok: false, errors: { 'masks.number': ['number is required'] } });
    }
    expect(validateMasks(defs, null)).toEqual({ ok: false, errors: { 'masks.number': ['number is required'] } });
  });

  it('leaves missing optional masks out', () => {
    expect(validateMasks(defs, { number: 'A-1', note: null, sum: '' })).toEqual({ ok: true, values: { number: 'A-1' } });
  });

  it('names every invalid mask in its own key', () => {
    const result = validateMasks(defs, {
      number: { x: 1 },
      note: 'x'.repeat(MAX_TEXT_LENGTH + 1),
      count: 'десять',
      sum: 1500.5,
      date: '05.06.2026',
      urgent: 'yes',
      lines: [],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(
      ['masks.count', 'masks.date', 'masks.lines', 'masks.note', 'masks.number', 'masks.sum', 'masks.urgent'].sort(),
    );
    expect(result.errors['masks.sum']).toEqual(['sum must be a non-negative integer number of kopecks']);
    expect(result.errors['masks.lines']).toEqual(['lines must be a non-empty array of lines']);
  });

  it.each([
    [{ sum: -100 }, 'masks.sum'],
    [{ sum: '-1.00' }, 'masks.sum'],
    [{ sum: '1500.505' }, 'masks.sum'],
    [{ count: Number.NaN }, 'masks.count'],
    [{ count: Infinity }, 'masks.count'],
    [{ date: '2026-02-30' }, 'masks.date'],
    [{ date: '2026-06-05T10:00:00' }, 'masks.date'],
    [{ urgent: 1 }, 'masks.urgent'],
    [{ lines: 'not an array' }, 'masks.lines'],
  ])('rejects %p', (values, key) => {
    const result = validateMasks(defs, { number: '1', ...values });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(Object.keys(result.errors)).toEqual([key]);
  });

  it('checks each line and says which one is wrong', () => {
    const result = validateMasks(defs, {
      number: '1',
      lines: [
        line,
        { title: '  ', measure: 'шт', quantity: 0, price: 100 },
        { title: 'Товар', measure: 5, quantity: 1.0005, price: 10.5 },
        { title: 'Товар', quantity: -1, price: -1 },
        'строка',
      ],
    });
    expect(result).toEqual({
      ok: false,
      errors: {
        'masks.lines': [
          'lines[1].title must be a non-empty string',
          'lines[1].quantity must be a number greater than 0',
          'lines[2].measure must be a string',
          'lines[2].quantity must have at most 3 decimals',
          'lines[2].price must be a non-negative integer number of kopecks',
          'lines[3].quantity must be a number greater than 0',
          'lines[3].price must be a non-negative integer number of kopecks',
          'lines[4] must be an object {title, measure, quantity, price}',
        ],
      },
    });
  });

  it('is idempotent: normalised values validate to themselves', () => {
    const first = validateMasks(defs, { number: 7, sum: '10,00', date: '2026-06-04T21:30:00Z', lines: [line], urgent: false });
    if (!first.ok) throw new Error('expected valid');
    expect(validateMasks(defs, first.values)).toEqual(first);
  });
});
