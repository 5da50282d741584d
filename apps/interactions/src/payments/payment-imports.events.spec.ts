import type { EnvelopeOf, InteractionPaymentImportRequested, InteractionPaymentRemoveRequested, InteractionSnapshot, PaymentSnapshot } from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { fakeCommands } from '@papka/testing';
import { PaymentImportsEvents } from './payment-imports.events';
import type { PaymentImportsRepository } from './payment-imports.repository';
import type { PaymentsRepository } from './payments.repository';

const I = '11111111-1111-4111-8111-111111111111';
const P = '22222222-2222-4222-8222-222222222222';

const importEvent = {
  id: 'e-1',
  type: 'interaction.payment.import-requested',
  version: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  accountId: 'acc-1',
  aggregateId: I,
  traceId: 't',
  data: { interactionId: I, paymentId: P, source: 'adesk', externalId: '1729', type: 'income', name: 'Оплата из банка', sum: 77770, date: '2025-09-02' },
} as EnvelopeOf<typeof InteractionPaymentImportRequested>;

const removeEvent = { ...importEvent, type: 'interaction.payment.remove-requested', data: { interactionId: I, paymentId: P, source: 'adesk', externalId: '1729' } } as EnvelopeOf<
  typeof InteractionPaymentRemoveRequested
>;

const stored: PaymentSnapshot = { uuid: P, type: 'income', name: 'Оплата из банка', sum: 77770, date: '2025-09-02', contractorBank: null, createdAt: '2026-01-01T00:00:00.000Z' };

describe(PaymentImportsEvents.name, () => {
  let payments: { lock: jest.Mock; insert: jest.Mock; delete: jest.Mock; snapshot: jest.Mock };
  let imports: { claim: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: PaymentImportsEvents;

  const handle = (e: typeof importEvent | typeof removeEvent) => fake.commands.run(e.accountId, async (t) => sut.onCommand(e, t as EventContext));

  beforeEach(() => {
    payments = {
      lock: jest.fn(async () => ({ id: I })),
      insert: jest.fn(async () => stored),
      delete: jest.fn(async () => stored),
      snapshot: jest.fn(async () => ({ uuid: I, paymentsCount: 1 }) as unknown as InteractionSnapshot),
    };
    imports = { claim: jest.fn(async () => true) };
    fake = fakeCommands();
    sut = new PaymentImportsEvents(payments as unknown as PaymentsRepository, imports as unknown as PaymentImportsRepository);
  });

  it('records the payment with the id finance-sync chose and announces it with the one payment', async () => {
    await handle(importEvent);
    expect(imports.claim).toHaveBeenCalledWith(fake.manager, 'acc-1', 'adesk', '1729', P, I);
    expect(payments.insert).toHaveBeenCalledWith(fake.manager, 'acc-1', I, expect.objectContaining({ id: P, type: 'income', sum: 77770, date: '2025-09-02', contractorBank: null }));
    expect(fake.emitted).toEqual([expect.objectContaining({ type: 'interaction.payment.recorded', aggregateId: I, data: expect.objectContaining({ payment: stored }) })]);
  });

  it('records nothing for an external id imported before (a repeated command)', async () => {
    imports.claim.mockResolvedValue(false);
    await handle(importEvent);
    expect(payments.insert).not.toHaveBeenCalled();
    expect(fake.emitted).toEqual([]);
  });

  it('ignores a command for an interaction that is not the account’s', async () => {
    payments.lock.mockResolvedValue(null);
    await handle(importEvent);
    await handle(removeEvent);
    expect(imports.claim).not.toHaveBeenCalled();
    expect(payments.delete).not.toHaveBeenCalled();
    expect(fake.emitted).toEqual([]);
  });

  it('records nothing for an import handled after the removal of its remote object (a retried or replayed import)', async () => {
    const claimed = new Set<string>();
    imports.claim.mockImplementation(async (_m: unknown, _a: string, source: string, externalId: string) => !claimed.has(`${source}:${externalId}`) && Boolean(claimed.add(`${source}:${externalId}`)));
    payments.delete.mockResolvedValue(null);
    await handle(removeEvent);
    await handle(importEvent);
    expect(payments.insert).not.toHaveBeenCalled();
    expect(fake.emitted).toEqual([]);
  });

  it('removes the payment once: a repeat finds nothing and announces nothing', async () => {
    await handle(removeEvent);
    payments.delete.mockResolvedValue(null);
    await handle(removeEvent);
    expect(fake.emitted).toEqual([expect.objectContaining({ type: 'interaction.payment.removed', data: expect.objectContaining({ payment: stored }) })]);
  });
});
