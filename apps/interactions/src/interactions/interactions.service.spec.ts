import type { AccountContext } from '@papka/auth';
import type { InteractionSnapshot, InteractionStatus } from '@papka/contracts';
import { InvalidStatusTransitionError, NotFoundError, ValidationFailedError, type Idempotency } from '@papka/platform';
import { fakeCommands } from '@papka/testing';
import type { InteractionsConfig } from '../config';
import type { ReplicasRepository } from '../replicas/replicas.repository';
import type { InteractionsRepository } from './interactions.repository';
import { InteractionsService } from './interactions.service';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;
const other = { accountId: 'acc-2', userId: 'u' } as AccountContext;
const ID = '11111111-1111-4111-8111-111111111111';
const CONTRACTOR = '22222222-2222-4222-8222-222222222222';

function snapshot(id: string, over: Partial<InteractionSnapshot> = {}): InteractionSnapshot {
  return {
    uuid: id,
    contractorId: CONTRACTOR,
    contractor: { name: 'ООО Ромашка', inn: null, address: null },
    name: 'Сделка',
    description: '',
    status: 1,
    sum: 100_00,
    paidSum: 0,
    balance: 100_00,
    documents: [],
    paymentsCount: 0,
    files: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** Holds the interactions of `acc` only, as the SQL filters by account would. */
function fakeRepo() {
  const rows = new Map<string, InteractionSnapshot>();
  const own = (accountId: string, id: string) => (accountId === acc.accountId ? rows.get(id) : undefined);
  return {
    rows,
    list: jest.fn(async () => []),
    view: jest.fn(async () => null),
    lock: jest.fn(async (_m: unknown, a: string, id: string) => {
      const s = own(a, id);
      return s ? { contractorId: s.contractorId, status: s.status } : null;
    }),
    snapshot: jest.fn(async (_m: unknown, a: string, id: string) => structuredClone(own(a, id)!)),
    insert: jest.fn(async (_m: unknown, _a: string, r: { id: string; contractorId: string; name: string; sum: number }) => {
      rows.set(r.id, snapshot(r.id, { contractorId: r.contractorId, name: r.name, sum: r.sum }));
    }),
    update: jest.fn(async (_m: unknown, a: string, id: string, c: { name: string | null; sum: number | null }) => {
      const s = own(a, id)!;
      const next = { ...s, name: c.name ?? s.name, sum: c.sum ?? s.sum };
      if (next.name === s.name && next.sum === s.sum) return false;
      rows.set(id, next);
      return true;
    }),
    setDescription: jest.fn(async () => true),
    setStatus: jest.fn(async (_m: unknown, a: string, id: string, status: InteractionStatus) => void rows.set(id, { ...own(a, id)!, status })),
    delete: jest.fn(async (_m: unknown, a: string, id: string) => void (own(a, id) && rows.delete(id))),
  };
}

/** The first answer per key, replayed (as the idempotency_key table does). */
function fakeIdempotency() {
  const seen = new Map<string, string>();
  return {
    run: jest.fn(async (_m: unknown, a: string, key: string | undefined, _req: unknown, create: () => Promise<string>) => {
      const k = `${a}/${key}`;
      if (key && seen.has(k)) return { uuid: seen.get(k)!, replayed: true };
      const uuid = await create();
      if (key) seen.set(k, uuid);
      return { uuid, replayed: false };
    }),
  };
}

describe(InteractionsService.name, () => {
  let repo: ReturnType<typeof fakeRepo>;
  let replicas: { contractorKnown: jest.Mock; contractorLive: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: InteractionsService;

  beforeEach(() => {
    repo = fakeRepo();
    repo.rows.set(ID, snapshot(ID));
    replicas = { contractorKnown: jest.fn(async () => true), contractorLive: jest.fn(async () => true) };
    fake = fakeCommands();
    sut = new InteractionsService(
      repo as unknown as InteractionsRepository,
      replicas as unknown as ReplicasRepository,
      fake.commands,
      fakeIdempotency() as unknown as Idempotency,
      { REPLICA_WAIT_MS: 0 } as InteractionsConfig,
    );
  });

  describe('status', () => {
    it('moves along an allowed transition with interaction.status-changed carrying the previous status', async () => {
      await sut.setStatus(acc, ID, 2);
      expect(repo.setStatus).toHaveBeenCalledWith(fake.manager, acc.accountId, ID, 2);
      expect(fake.emitted).toEqual([expect.objectContaining({ type: 'interaction.status-changed', aggregateId: ID, accountId: acc.accountId })]);
      expect(fake.emitted[0]!.data).toMatchObject({ status: 2, previousStatus: 1 });
    });

    it('treats the current status again as a no-op that emits nothing', async () => {
      await sut.setStatus(acc, ID, 1);
      expect(repo.setStatus).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });

    it('409s a transition that is not allowed with INVALID_STATUS_TRANSITION listing the allowed targets', async () => {
      repo.rows.set(ID, snapshot(ID, { status: 4 }));
      const err = await sut.setStatus(acc, ID, 5).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidStatusTransitionError);
      expect(err).toMatchObject({ status: 409, code: 'INVALID_STATUS_TRANSITION' });
      expect((err as Error).message).toContain('allowed: 2 (');
      expect(repo.setStatus).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });

    it('lets a cancelled interaction be restored to new only', async () => {
      repo.rows.set(ID, snapshot(ID, { status: 5 }));
      await expect(sut.setStatus(acc, ID, 2)).rejects.toMatchObject({ code: 'INVALID_STATUS_TRANSITION', message: expect.stringMatching(/allowed: 1 \([^)]+\)$/) });
      await sut.setStatus(acc, ID, 1);
      expect(fake.emitted.map((e) => e.type)).toEqual(['interaction.status-changed']);
    });
  });

  describe('create', () => {
    const dto = { contractor: CONTRACTOR, name: 'Поставка', sum: 1500.5 };

    it('stores the sum in kopecks and emits interaction.created with the snapshot', async () => {
      const { uuid, replayed } = await sut.create(acc, dto);
      expect(replayed).toBe(false);
      expect(repo.insert).toHaveBeenCalledWith(fake.manager, acc.accountId, { id: uuid, contractorId: CONTRACTOR, name: 'Поставка', sum: 150050 });
      expect(fake.emitted).toEqual([expect.objectContaining({ type: 'interaction.created', aggregateId: uuid })]);
    });

    it('answers a replayed Idempotency-Key with the first id and creates nothing more', async () => {
      const first = await sut.create(acc, dto, 'key-1');
      const again = await sut.create(acc, dto, 'key-1');
      expect(again).toEqual({ uuid: first.uuid, replayed: true });
      expect(repo.insert).toHaveBeenCalledTimes(1);
      expect(fake.emitted).toHaveLength(1);
    });

    it('404s a contractor that is not (or no longer) in the read model, storing and emitting nothing', async () => {
      replicas.contractorLive.mockResolvedValue(false);
      await expect(sut.create(acc, dto)).rejects.toBeInstanceOf(NotFoundError);
      replicas.contractorKnown.mockResolvedValue(false);
      await expect(sut.create(acc, dto, 'key-unknown')).rejects.toBeInstanceOf(NotFoundError);
      expect(repo.insert).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });

    it('replays the first answer to a retried Idempotency-Key though the contractor was deleted since', async () => {
      const first = await sut.create(acc, dto, 'key-lost-answer');
      replicas.contractorLive.mockResolvedValue(false);
      await expect(sut.create(acc, dto, 'key-lost-answer')).resolves.toEqual({ uuid: first.uuid, replayed: true });
      // a new key is a new create: refused
      await expect(sut.create(acc, dto, 'key-new')).rejects.toBeInstanceOf(NotFoundError);
      expect(repo.insert).toHaveBeenCalledTimes(1);
      expect(fake.emitted).toHaveLength(1);
    });
  });

  describe('update', () => {
    it('400s naming name when neither name nor sum is given', async () => {
      const err = await sut.update(acc, ID, {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as ValidationFailedError).errors).toHaveProperty('name');
      expect(repo.lock).not.toHaveBeenCalled();
    });

    it('emits interaction.updated only when something changed', async () => {
      await sut.update(acc, ID, { name: 'Сделка' });
      expect(fake.emitted).toEqual([]);
      await sut.update(acc, ID, { sum: 200 });
      expect(repo.update).toHaveBeenLastCalledWith(fake.manager, acc.accountId, ID, { name: null, sum: 200_00 });
      expect(fake.emitted).toEqual([expect.objectContaining({ type: 'interaction.updated', data: expect.objectContaining({ sum: 200_00 }) })]);
    });
  });

  describe('description', () => {
    it('stores the sanitized description and emits interaction.updated', async () => {
      await sut.setDescription(acc, ID, '<p>Оплата <a href="https://bank.ru">по счёту</a><script>x()</script></p>');
      expect(repo.setDescription).toHaveBeenCalledWith(fake.manager, acc.accountId, ID, '<p>Оплата <a href="https://bank.ru" target="_blank" rel="noopener noreferrer nofollow">по счёту</a></p>');
    });

    it('400s naming description when what would be stored passes the cap, though what was sent did not', async () => {
      // 99,999 characters sent; every link gains target and rel when sanitized.
      const sent = '<a>'.repeat(33_333);
      expect(sent.length).toBeLessThanOrEqual(100_000);
      const err = await sut.setDescription(acc, ID, sent).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as ValidationFailedError).errors).toHaveProperty('description');
      expect(repo.setDescription).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });
  });

  it('emits interaction.deleted with the last snapshot', async () => {
    await sut.remove(acc, ID);
    expect(repo.rows.has(ID)).toBe(false);
    expect(fake.emitted).toEqual([expect.objectContaining({ type: 'interaction.deleted', aggregateId: ID, data: snapshot(ID) })]);
  });

  it("404s another account's interaction on every change and emits nothing", async () => {
    for (const call of [
      () => sut.update(other, ID, { name: 'x' }),
      () => sut.setDescription(other, ID, '<p>x</p>'),
      () => sut.setStatus(other, ID, 2),
      () => sut.remove(other, ID),
      () => sut.get(other, ID),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(NotFoundError);
    }
    expect(repo.lock).toHaveBeenCalledWith(fake.manager, other.accountId, ID);
    expect(repo.update).not.toHaveBeenCalled();
    expect(repo.setDescription).not.toHaveBeenCalled();
    expect(repo.setStatus).not.toHaveBeenCalled();
    expect(repo.delete).not.toHaveBeenCalled();
    expect(repo.rows.has(ID)).toBe(true);
    expect(fake.emitted).toEqual([]);
  });

  it('404s the interactions of a contractor unknown to the read model', async () => {
    replicas.contractorKnown.mockResolvedValue(false);
    await expect(sut.listForContractor(acc, CONTRACTOR, {})).rejects.toBeInstanceOf(NotFoundError);
    expect(repo.list).not.toHaveBeenCalled();
  });
});
