import type { MaskDef } from '@papka/contracts';

export type BuiltinKind = 'invoice' | 'act' | 'contract' | 'letter';

const VAT_MASKS: MaskDef[] = [
  // '22' | '20' | '10' | '7' | '5' | '0' | 'none'; default: the base rate on the document date.
  { id: 'vatRate', name: 'Ставка НДС', type: 'string' },
  // 'on-top' (prices without VAT, the default) | 'included' (prices include VAT).
  { id: 'vatMode', name: 'НДС в цене или сверху', type: 'string' },
];

export const BUILTIN_MASKS: Record<BuiltinKind, MaskDef[]> = {
  invoice: [
    { id: 'number', name: 'Номер счёта', type: 'string', required: true },
    { id: 'date', name: 'Дата счёта', type: 'date' },
    { id: 'lines', name: 'Товары, работы, услуги', type: 'lines', required: true },
    ...VAT_MASKS,
    { id: 'purpose', name: 'Назначение платежа', type: 'string' },
    { id: 'dueDate', name: 'Оплатить до', type: 'date' },
  ],
  act: [
    { id: 'number', name: 'Номер акта', type: 'string', required: true },
    { id: 'date', name: 'Дата акта', type: 'date' },
    { id: 'lines', name: 'Работы, услуги', type: 'lines', required: true },
    ...VAT_MASKS,
    { id: 'basis', name: 'Основание', type: 'string' },
  ],
  contract: [
    { id: 'number', name: 'Номер договора', type: 'string', required: true },
    { id: 'date', name: 'Дата договора', type: 'date' },
    { id: 'city', name: 'Город', type: 'string' },
    { id: 'subject', name: 'Предмет договора (какие услуги)', type: 'text', required: true },
    { id: 'sum', name: 'Стоимость услуг', type: 'money' },
    // As the invoice's; the price includes it ("в том числе НДС").
    VAT_MASKS[0]!,
    { id: 'term', name: 'Срок оказания услуг', type: 'string' },
    { id: 'paymentTerms', name: 'Порядок оплаты', type: 'text' },
  ],
  letter: [
    { id: 'number', name: 'Исходящий номер', type: 'string' },
    { id: 'date', name: 'Дата', type: 'date' },
    { id: 'subject', name: 'Тема', type: 'string' },
    { id: 'body', name: 'Текст письма', type: 'text', required: true },
    { id: 'signerPost', name: 'Должность подписанта', type: 'string' },
    { id: 'signerName', name: 'ФИО подписанта', type: 'string' },
  ],
};
