import type { ContractorSnapshot, EnvelopeOf, InteractionPaymentRecorded, InteractionPaymentRemoved, InteractionSnapshot, OrganizationSnapshot, OrganizationUpdated } from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { fakeCommands } from '@papka/testing';
import type { SyncRepository } from '../engine/sync.repository';
import { contractorData, contractorHash } from './content-hash';
import { ReplicasEvents } from './replicas.events';
import type { ReplicasRepository } from './replicas.repository';
import { targetsTaking, type OrganizationData } from '../connectors';

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
  let sync: { enqueue: jest.Mock; requeueNotApplicablePayments: jest.Mock; hasConnectionTo: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: ReplicasEvents;
  const ctx = (fn: (c: EventContext) => Promise<void>) => fake.commands.run('acc-1', async (t) => fn(t as EventContext));

  beforeEach(() => {
    replicas = { upsertContractor: jest.fn(async () => true), upsertInteraction: jest.fn(async () => true), upsertPayment: jest.fn(async () => true) };
    sync = { enqueue: jest.fn(async () => undefined), requeueNotApplicablePayments: jest.fn(async () => undefined), hasConnectionTo: jest.fn(async () => false) };
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
    // Either may change which payment pays the invoice in full: the interaction's not-applicable payments are asked again.
    expect(sync.requeueNotApplicablePayments.mock.calls).toEqual([
      [fake.manager, 'acc-1', I, undefined, ['dms']],
      [fake.manager, 'acc-1', I, undefined, ['dms']],
    ]);
  });

  describe('the account organisation (organization.updated)', () => {
    const D = '66666666-6666-4666-8666-666666666666';
    const org = (over: Partial<OrganizationSnapshot> = {}) =>
      ({ accountId: 'acc-1', inn: '7701234567', kpp: '770101001', ogrn: null, name: 'ООО Папка', address: null, director: 'Иванов', directorPost: null, bankAccounts: [], fullInfo: null, updatedAt: '2026-01-01T00:00:00.000Z', ...over }) as OrganizationSnapshot;
    const asData = (o: OrganizationSnapshot): OrganizationData => ({ accountId: 'acc-1', name: o.name, inn: o.inn, kpp: o.kpp });
    let stored: OrganizationData | null;
    let r: { organization: jest.Mock; upsertOrganization: jest.Mock; liveDocumentIds: jest.Mock; lockDocumentLinks: jest.Mock; document: jest.Mock };
    const onOrganization = (o: OrganizationSnapshot) => ctx((c) => sut.onOrganization(envelope<EnvelopeOf<typeof OrganizationUpdated>>('organization.updated', o), c));

    beforeEach(() => {
      stored = null;
      r = {
        organization: jest.fn(async () => stored),
        upsertOrganization: jest.fn(async (_m: unknown, _a: string, o: OrganizationSnapshot) => ((stored = asData(o)), true)),
        liveDocumentIds: jest.fn(async () => [D]),
        lockDocumentLinks: jest.fn(async () => undefined),
        document: jest.fn(async () => ({ id: D, deleted: false, contentHash: `hash of ${stored?.name}` })),
      };
      sut = new ReplicasEvents(r as unknown as ReplicasRepository, sync as unknown as SyncRepository);
    });

    it("queues the account's documents again with their new hash when the seller's name, INN or KPP changes, for the targets that take documents", async () => {
      await onOrganization(org());
      await onOrganization(org({ name: 'ООО Папка и Ко' }));
      expect(r.upsertOrganization).toHaveBeenLastCalledWith(fake.manager, 'acc-1', org({ name: 'ООО Папка и Ко' }), 3);
      expect(r.liveDocumentIds).toHaveBeenCalledWith(fake.manager, 'acc-1', targetsTaking('document'));
      expect(targetsTaking('document')).toContain('dms');
      expect(sync.enqueue.mock.calls).toEqual([
        [fake.manager, 'acc-1', 'document', D, 'hash of ООО Папка', 'upsert'],
        [fake.manager, 'acc-1', 'document', D, 'hash of ООО Папка и Ко', 'upsert'],
      ]);
    });

    it('queues nothing for a change documents do not send (the director), nor for a late event', async () => {
      await onOrganization(org());
      sync.enqueue.mockClear();
      await onOrganization(org({ director: 'Петров' }));
      r.upsertOrganization.mockResolvedValueOnce(false);
      await onOrganization(org({ name: 'Старое имя' }));
      expect(sync.enqueue).not.toHaveBeenCalled();
    });
  });

  describe('payments parked for an attached document the read model did not have yet', () => {
    const D = '77777777-7777-4777-8777-777777777777';
    let r: Record<string, jest.Mock>;
    let s: { enqueue: jest.Mock; releaseParkedOfAccount: jest.Mock; requeueNotApplicablePayments: jest.Mock; hasConnectionTo: jest.Mock };

    beforeEach(() => {
      r = {
        upsertInteraction: jest.fn(async () => true),
        upsertDocument: jest.fn(async () => true),
        setInteractionDocuments: jest.fn(async () => [D]),
        lockDocumentLinks: jest.fn(async () => undefined),
        document: jest.fn(async () => null),
      };
      s = {
        enqueue: jest.fn(async () => undefined),
        releaseParkedOfAccount: jest.fn(async () => undefined),
        requeueNotApplicablePayments: jest.fn(async () => undefined),
        hasConnectionTo: jest.fn(async () => false),
      };
      sut = new ReplicasEvents(r as unknown as ReplicasRepository, s as unknown as SyncRepository);
    });

    it('are released when the document arrives, even as deleted (so none waits forever), and not for a late event', async () => {
      await ctx((c) => sut.onDocument(envelope('document.deleted', { uuid: D }), c));
      expect(s.releaseParkedOfAccount).toHaveBeenCalledWith(fake.manager, 'acc-1', [`document:${D}`]);
      s.releaseParkedOfAccount.mockClear();
      r.upsertDocument!.mockResolvedValueOnce(false);
      await ctx((c) => sut.onDocument(envelope('document.created', { uuid: D }), c));
      expect(s.releaseParkedOfAccount).not.toHaveBeenCalled();
    });

    it('are released when the document is detached from the interaction', async () => {
      await ctx((c) => sut.onInteraction(envelope('interaction.document-detached', { ...interaction, documents: [] }, 2), c));
      expect(r.setInteractionDocuments).toHaveBeenCalledWith(fake.manager, 'acc-1', I, []);
      expect(s.releaseParkedOfAccount).toHaveBeenCalledWith(fake.manager, 'acc-1', [`document:${D}`]);
    });
  });

  describe("an invoice's payment (documentsWithPayment: the DMS)", () => {
    const D = '88888888-8888-4888-8888-888888888888';
    let r: Record<string, jest.Mock>;
    const row = { id: D, kind: 'invoice', sum: 500, deleted: false, contentHash: 'base hash' };

    beforeEach(() => {
      r = {
        upsertInteraction: jest.fn(async () => true),
        upsertPayment: jest.fn(async () => true),
        setInteractionDocuments: jest.fn(async () => []),
        documentsOf: jest.fn(async () => [{ id: D, kind: 'invoice', templateId: null, sum: 500 }]),
        lockDocumentLinks: jest.fn(async () => undefined),
        document: jest.fn(async () => row),
        withPayment: jest.fn(async () => ({ ...row, payment: { id: P, name: 'Оплата', date: '2025-01-02' }, contentHash: 'hash with the payment' })),
      };
      sut = new ReplicasEvents(r as unknown as ReplicasRepository, sync as unknown as SyncRepository);
    });

    it('queues the interaction\'s invoice again for the DMS, with the hash that has the payment, when a payment is recorded or removed', async () => {
      sync.hasConnectionTo.mockResolvedValue(true);
      await ctx((c) => sut.onPayment(envelope<EnvelopeOf<typeof InteractionPaymentRecorded>>('interaction.payment.recorded', { ...interaction, payment }, 2), c));
      expect(r.documentsOf).toHaveBeenCalledWith('acc-1', I, fake.manager);
      expect(r.lockDocumentLinks).toHaveBeenCalledWith(fake.manager, 'acc-1', D);
      expect(sync.enqueue.mock.calls.filter((x: unknown[]) => x[2] === 'document')).toEqual([[fake.manager, 'acc-1', 'document', D, 'hash with the payment', 'upsert', ['dms']]]);
    });

    it('a document event queues the invoice with its own hash for the other targets and with the payment for the DMS', async () => {
      sync.hasConnectionTo.mockResolvedValue(true);
      r.upsertDocument = jest.fn(async () => true);
      sut = new ReplicasEvents(r as unknown as ReplicasRepository, { ...sync, releaseParkedOfAccount: jest.fn(async () => undefined) } as unknown as SyncRepository);
      await ctx((c) => sut.onDocument(envelope('document.rendered', { uuid: D }), c));
      expect(sync.enqueue.mock.calls).toEqual([
        [fake.manager, 'acc-1', 'document', D, 'base hash', 'upsert', targetsTaking('document').filter((t) => t !== 'dms')],
        [fake.manager, 'acc-1', 'document', D, 'hash with the payment', 'upsert', ['dms']],
      ]);
    });

    it('looks nothing up for an account without such a connection, nor for a payment event that writes nothing', async () => {
      await ctx((c) => sut.onPayment(envelope<EnvelopeOf<typeof InteractionPaymentRecorded>>('interaction.payment.recorded', { ...interaction, payment }, 2), c));
      expect(r.documentsOf).not.toHaveBeenCalled();
      sync.hasConnectionTo.mockResolvedValue(true);
      r.upsertPayment!.mockResolvedValueOnce(false);
      await ctx((c) => sut.onPayment(envelope<EnvelopeOf<typeof InteractionPaymentRecorded>>('interaction.payment.recorded', { ...interaction, payment }, 2), c));
      expect(r.documentsOf).not.toHaveBeenCalled();
      expect(r.withPayment).not.toHaveBeenCalled();
      expect(sync.enqueue.mock.calls.filter((x: unknown[]) => x[2] === 'document')).toEqual([]);
    });
  });

  it('reads the payments inline in a version-1 interaction event', async () => {
    const v1 = { ...interaction, payments: [payment] };
    await ctx((c) => sut.onInteraction(envelope('interaction.updated', v1, 1), c));
    expect(replicas.upsertPayment).toHaveBeenCalledWith(fake.manager, 'acc-1', I, payment, 3, false);
  });
});
