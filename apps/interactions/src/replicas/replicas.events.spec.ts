import type { DocumentDeleted, DocumentSnapshot, EnvelopeOf, InteractionSnapshot } from '@papka/contracts';
import type { EventContext } from '@papka/messaging';
import { fakeCommands } from '@papka/testing';
import { ReplicasEvents } from './replicas.events';
import type { ReplicasRepository } from './replicas.repository';

const DOC = '66666666-6666-4666-8666-666666666666';

const doc: DocumentSnapshot = {
  uuid: DOC,
  name: 'Счёт',
  type: 'invoice',
  status: 1,
  renderState: 'rendered',
  renderError: null,
  filename: 'a.pdf',
  contentType: 'application/pdf',
  storageKey: 'acc-1/a.pdf',
  contractorId: null,
  contractor: null,
  templateId: null,
  masks: {},
  sum: 100,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

const deleted = { id: 'e-1', type: 'document.deleted', version: 1, occurredAt: '2026-01-03T00:00:00.000Z', sequence: 7, accountId: 'acc-1', aggregateId: DOC, traceId: 't', data: doc } as EnvelopeOf<
  typeof DocumentDeleted
>;

describe(ReplicasEvents.name, () => {
  let replicas: { upsertDocument: jest.Mock; lockLinks: jest.Mock; unlinkDocument: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: ReplicasEvents;

  /** The handler's context: its inbox transaction and emit, as the consumer gives it. */
  const ctx = () => fake.commands.run(deleted.accountId, async (t) => sut.onDocumentDeleted(deleted, t as EventContext));

  beforeEach(() => {
    replicas = {
      upsertDocument: jest.fn(async () => true),
      lockLinks: jest.fn(async () => []),
      unlinkDocument: jest.fn(async (_m: unknown, _a: string, interactionId: string) => ({ uuid: interactionId, documents: [] }) as unknown as InteractionSnapshot),
    };
    fake = fakeCommands();
    sut = new ReplicasEvents(replicas as unknown as ReplicasRepository);
  });

  it('tombstones the replica and detaches the document from each interaction, emitting for the account of the link', async () => {
    replicas.lockLinks.mockResolvedValue([
      { interactionId: 'i-1', accountId: 'acc-1' },
      { interactionId: 'i-2', accountId: 'acc-1' },
    ]);
    await ctx();
    expect(replicas.upsertDocument).toHaveBeenCalledWith(fake.manager, 'acc-1', doc, 7, true);
    expect(replicas.unlinkDocument.mock.calls.map((c: unknown[]) => c.slice(1))).toEqual([
      ['acc-1', 'i-1', DOC],
      ['acc-1', 'i-2', DOC],
    ]);
    expect(fake.emitted).toEqual(
      ['i-1', 'i-2'].map((id) =>
        expect.objectContaining({
          type: 'interaction.document.detached',
          aggregateId: id,
          accountId: 'acc-1',
          data: expect.objectContaining({ reason: 'document-deleted', document: expect.objectContaining({ id: DOC, name: 'Счёт', sum: 100 }) }),
        }),
      ),
    );
  });

  it('emits nothing when no interaction has the document (a replay)', async () => {
    await ctx();
    expect(replicas.upsertDocument).toHaveBeenCalledTimes(1);
    expect(fake.emitted).toEqual([]);
  });
});
