import { InteractionCreated, InteractionPaymentRecorded } from './interaction.events';
import type { InteractionPaymentEvent, InteractionSnapshotV1, PaymentSnapshot } from './interaction-snapshot';
import { INTERACTION_EVENT_VERSION, interactionSnapshotOf } from './interaction-versions';

const payment = (uuid: string, sum: number): PaymentSnapshot => ({ uuid, type: 'income', name: 'Оплата', sum, date: '2026-01-02', contractorBank: null, createdAt: '2026-01-02T00:00:00.000Z' });

const v1 = (payments: PaymentSnapshot[]): InteractionSnapshotV1 => ({
  uuid: 'i-1',
  contractorId: 'c-1',
  contractor: { name: 'ООО Ромашка', inn: null, address: null },
  name: 'Сделка',
  description: '',
  status: 1,
  sum: 1000,
  paidSum: payments.reduce((a, p) => a + p.sum, 0),
  balance: 1000 - payments.reduce((a, p) => a + p.sum, 0),
  documents: [],
  files: [],
  payments,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('interaction event versions', () => {
  it('emits every interaction event as version 2', () => {
    expect(INTERACTION_EVENT_VERSION).toBe(2);
    expect(InteractionCreated.version).toBe(2);
    expect(InteractionPaymentRecorded.version).toBe(2);
  });

  it('reads a version-1 event as version 2: payments out, paymentsCount in, the rest kept', () => {
    const data = { ...v1([payment('p-1', 100), payment('p-2', 200)]), payment: payment('p-2', 200) };
    const s = interactionSnapshotOf<InteractionPaymentEvent>({ version: 1, data });
    expect(s).not.toHaveProperty('payments');
    expect(s).toMatchObject({ uuid: 'i-1', paymentsCount: 2, paidSum: 300, balance: 700, payment: { uuid: 'p-2' } });
  });

  it('passes a version-2 event through as it is', () => {
    const { payments: _payments, ...rest } = v1([]);
    const data = { ...rest, paymentsCount: 0 };
    expect(interactionSnapshotOf({ version: 2, data })).toBe(data);
  });
});
