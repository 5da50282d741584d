import type { ContractorSnapshot, EnvelopeOf, InteractionPaymentRecorded, InteractionPaymentRemoved, InteractionSnapshot } from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { fakeCommands } from '@papka/testing';
import type { SyncRepository } from '../engine/sync.repository';
import { contractorData, contractorHash } from './content-hash';
import { ReplicasEvents } from './replicas.events';
import type { ReplicasRepository } from './replicas.repository';

const C = '33333333-3333-4333-8333-333333333333';
const I = '44444444-4444-4444-8444-444444444444';
const P = '55555555-5555-4555-8555-555555555555';

const snapshot: ContractorSnapshot = {
  uuid: C,
  type: 2,
  mainInfo: { name: 'ООО Ромашка', inn: '0123456789', address: null },
  bankInfo: [{ id: 'b-1', bik: '044525225', number: '40702810900000000001', name: 'р/с', fullInfo: null }],
  contactInfo: [],
  fullInfo: { data: { kpp: '012301001' } },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

const envelope = <E>(type: string, data: unknown, version = 1) =>
  ({ id: 'e', type, version, occurredAt: '2026-01-01T00:00:00.000Z', sequence: 3, accountId: 'acc-1', aggregateId: 'x', traceId: 't', data }) as E;

const interaction = { uuid: I, contractorId: C, name: 'Сделка', sum: 1000, paymentsCount: 1 } as unknown as InteractionSnapshot;
const payment = { uuid: P, type: 'income', name: 'Оплата', sum: 500, date: '2025-01-02', contractorBank: null, createdAt: '2026-01-01T00:00:00.000Z' };

describe(ReplicasEvents.name, () => {
  let replicas: { upsertContractor: jest.Mock; upsertInteraction: jest.Mock; upsertPayment: jest.Mock };
  let sync: { enqueue: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: ReplicasEvents;
  const ctx = (fn: (c: EventContext) => Promise<void>) => fake.commands.run('acc-1', async (t) => fn(t as EventContext));

  beforeEach(() => {
    replicas = { upsertContractor: jest.fn(async () => true), upsertInteraction: jest.fn(async () => true), upsertPayment: jest.fn(async () => true) };
    sync = { enqueue: jest.fn(async () => undefined) };
    fake = fakeCommands();
    sut = new ReplicasEvents(replicas as unknown as ReplicasRepository, sync as unknown as SyncRepository);
  });

  it('queues a contractor with the hash of what the connector sends (KPP from fullInfo.data.kpp)', async () => {
    await ctx((c) => sut.onContractor(envelope('contractor.created', snapshot), c));
    expect(contractorData(snapshot).kpp).toBe('012301001');
    expect(sync.enqueue).toHaveBeenCalledWith(fake.manager, 'acc-1', 'contractor', C, contractorHash(contractorData(snapshot)), 'upsert');
  });

  it('queues nothing for a late (older) event, nor for a deleted contractor', async () => {
    replicas.upsertContractor.mockResolvedValueOnce(false);
    await ctx((c) => sut.onContractor(envelope('contractor.updated', snapshot), c));
    await ctx((c) => sut.onContractor(envelope('contractor.deleted', snapshot), c));
    expect(replicas.upsertContractor).toHaveBeenLastCalledWith(fake.manager, 'acc-1', snapshot, 3, true);
    expect(sync.enqueue).not.toHaveBeenCalled();
  });

  it('takes the one payment of a payment event, and a removal as a remove', async () => {
    await ctx((c) => sut.onPayment(envelope<EnvelopeOf<typeof InteractionPaymentRecorded>>('interaction.payment.recorded', { ...interaction, payment }, 2), c));
    await ctx((c) => sut.onPayment(envelope<EnvelopeOf<typeof InteractionPaymentRemoved>>('interaction.payment.removed', { ...interaction, payment }, 2), c));
    expect(replicas.upsertPayment.mock.calls.map((x: unknown[]) => x.slice(1))).toEqual([
      ['acc-1', I, payment, 3, false],
      ['acc-1', I, payment, 3, true],
    ]);
    expect(sync.enqueue.mock.calls.filter((x: unknown[]) => x[2] === 'payment').map((x: unknown[]) => x[5])).toEqual(['upsert', 'remove']);
  });

  it('reads the payments inline in a version-1 interaction event', async () => {
    const v1 = { ...interaction, payments: [payment] };
    await ctx((c) => sut.onInteraction(envelope('interaction.updated', v1, 1), c));
    expect(replicas.upsertPayment).toHaveBeenCalledWith(fake.manager, 'acc-1', I, payment, 3, false);
  });
});
