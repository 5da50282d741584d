import type { AccountContext } from '@papka/auth';
import type { InteractionSnapshot, PaymentSnapshot, RecordPaymentDto } from '@papka/contracts';
import { NotFoundError, ValidationFailedError, type Idempotency } from '@papka/platform';
import { fakeCommands } from '@papka/testing';
import type { InteractionsConfig } from '../config';
import type { BankAccount, ReplicasRepository } from '../replicas/replicas.repository';
import type { NewPayment, PaymentsRepository } from './payments.repository';
import { PaymentsService } from './payments.service';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;
const other = { accountId: 'acc-2', userId: 'u' } as AccountContext;
const ID = '11111111-1111-4111-8111-111111111111';
const CONTRACTOR = '22222222-2222-4222-8222-222222222222';
const BANK: BankAccount = { uuid: '33333333-3333-4333-8333-333333333333', bik: '044525104', number: '40802810220000499329', name: 'Расчетный счёт' };

/** What the interaction row's totals say: the snapshot has no payments, only their count and sums. */
const snapshot = (payments: PaymentSnapshot[]): InteractionSnapshot => ({
  uuid: ID,
  contractorId: CONTRACTOR,
  contractor: { name: 'ООО Ромашка', inn: null, address: null },
  name: 'Сделка',
  description: '',
  status: 1,
  sum: 100_00,
  paidSum: payments.reduce((acc, p) => acc + (p.type === 'income' ? p.sum : -p.sum), 0),
  balance: 100_00 - payments.reduce((acc, p) => acc + (p.type === 'income' ? p.sum : -p.sum), 0),
  paymentsCount: payments.length,
  documents: [],
  files: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

/** One interaction of `acc` with its payments, as the account-filtered SQL would see it. */
function fakeRepo() {
  const payments: PaymentSnapshot[] = [];
  const mine = (a: string) => a === acc.accountId;
  return {
    payments,
    lock: jest.fn(async (_m: unknown, a: string, id: string) =>
      mine(a) && id === ID ? { contractorId: CONTRACTOR, status: 1, paidSum: payments.reduce((acc, p) => acc + (p.type === 'income' ? p.sum : -p.sum), 0) } : null,
    ),
    snapshot: jest.fn(async () => snapshot([...payments])),
    insert: jest.fn(async (_m: unknown, _a: string, _id: string, p: NewPayment) => {
      const stored = { uuid: p.id, type: p.type, name: p.name, sum: p.sum, date: p.date, contractorBank: p.contractorBank, createdAt: '2026-01-02T00:00:00.000Z' };
      payments.push(stored);
      return { ...stored };
    }),
    delete: jest.fn(async (_m: unknown, a: string, _id: string, paymentId: string) => {
      const i = payments.findIndex((p) => p.uuid === paymentId);
      if (!mine(a) || i < 0) return null;
      return payments.splice(i, 1)[0]!;
    }),
  };
}

describe(PaymentsService.name, () => {
  let repo: ReturnType<typeof fakeRepo>;
  let replicas: { contractorBankAccounts: jest.Mock; interactionContractorHasBank: jest.Mock };
  let idempotency: { run: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: PaymentsService;
  const dto = (over: Partial<RecordPaymentDto> = {}): RecordPaymentDto => ({ type: 'income', name: 'Оплата', sum: 25000.5, date: '2026-02-03T10:00:00Z', ...over });

  beforeEach(() => {
    repo = fakeRepo();
    replicas = { contractorBankAccounts: jest.fn(async () => [BANK]), interactionContractorHasBank: jest.fn(async () => true) };
    const seen = new Map<string, string>();
    idempotency = {
      run: jest.fn(async (_m: unknown, _a: string, key: string | undefined, _req: unknown, create: () => Promise<string>) => {
        if (key && seen.has(key)) return { uuid: seen.get(key)!, replayed: true };
        const uuid = await create();
        if (key) seen.set(key, uuid);
        return { uuid, replayed: false };
      }),
    };
    fake = fakeCommands();
    sut = new PaymentsService(repo as unknown as PaymentsRepository, replicas as unknown as ReplicasRepository, fake.commands, idempotency as unknown as Idempotency, { REPLICA_WAIT_MS: 0 } as unknown as InteractionsConfig);
  });

  it("refuses, naming sum, a payment that would take the interaction's totals past 10 trillion rubles either way (they would no longer be exact in JSON)", async () => {
    for (let n = 0; n < 10; n++) await sut.record(acc, ID, dto({ sum: 1e12 }));
    await expect(sut.record(acc, ID, dto({ sum: 0.01 }))).rejects.toMatchObject({ status: 400, errors: { sum: [expect.stringContaining('10000000000000 rubles')] } });
    expect(repo.payments).toHaveLength(10);
    // Outcome brings it back; the same bound holds below zero.
    await sut.record(acc, ID, dto({ type: 'outcome', sum: 1e12 }));
    for (let n = 0; n < 19; n++) await sut.record(acc, ID, dto({ type: 'outcome', sum: 1e12 }));
    await expect(sut.record(acc, ID, dto({ type: 'outcome', sum: 1 }))).rejects.toBeInstanceOf(ValidationFailedError);
    expect(repo.payments).toHaveLength(30);
    // Nor past it by removing one: at -10 trillion, removing an income would go below it.
    const income = repo.payments.find((p) => p.type === 'income')!;
    await expect(sut.remove(acc, ID, income.uuid)).rejects.toMatchObject({ status: 409, code: 'TOTALS_OUT_OF_RANGE' });
  });

  it('records in kopecks, on the calendar date, with interaction.payment.recorded carrying the payment', async () => {
    const { uuid } = await sut.record(acc, ID, dto());
    expect(repo.payments).toEqual([expect.objectContaining({ uuid, sum: 2500050, date: '2026-02-03', contractorBank: null })]);
    expect(fake.emitted).toEqual([expect.objectContaining({ type: 'interaction.payment.recorded', aggregateId: ID })]);
    expect(fake.emitted[0]!.data).toMatchObject({ payment: { uuid, sum: 2500050 }, paymentsCount: 1, paidSum: 2500050, balance: 100_00 - 2500050 });
    expect(fake.emitted[0]!.data).not.toHaveProperty('payments');
  });

  it("takes one of the contractor's bank accounts by its uuid or its number, and the event carries the whole account", async () => {
    await sut.record(acc, ID, dto({ contractorBank: BANK.uuid }));
    await sut.record(acc, ID, dto({ contractorBank: BANK.number }));
    expect(replicas.contractorBankAccounts).toHaveBeenCalledWith(fake.manager, acc.accountId, CONTRACTOR);
    expect(fake.emitted.map((e) => (e.data as { payment: PaymentSnapshot }).payment.contractorBank)).toEqual([BANK, BANK]);
  });

  it('waits for a bank account added a moment ago to reach the read model (REPLICA_WAIT_MS) before refusing it', async () => {
    const waiting = new PaymentsService(repo as unknown as PaymentsRepository, replicas as unknown as ReplicasRepository, fake.commands, idempotency as unknown as Idempotency, {
      REPLICA_WAIT_MS: 2_000,
    } as unknown as InteractionsConfig);
    // The contractor's event with the new account arrives on the third look.
    let looks = 0;
    replicas.interactionContractorHasBank.mockImplementation(async () => ++looks >= 3);
    replicas.contractorBankAccounts.mockImplementation(async () => (looks >= 3 ? [BANK] : []));
    await expect(waiting.record(acc, ID, dto({ contractorBank: BANK.uuid }))).resolves.toMatchObject({ uuid: expect.any(String) });
    expect(looks).toBe(3);
    expect(fake.emitted.map((e) => (e.data as { payment: PaymentSnapshot }).payment.contractorBank)).toEqual([BANK]);
  });

  it('400s naming contractorBank for an account the contractor does not have, storing and emitting nothing', async () => {
    for (const ref of ['44444444-4444-4444-8444-444444444444', '40702810600000000001']) {
      const err = await sut.record(acc, ID, dto({ contractorBank: ref })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as ValidationFailedError).errors).toHaveProperty('contractorBank');
    }
    replicas.contractorBankAccounts.mockResolvedValue(null);
    await expect(sut.record(acc, ID, dto({ contractorBank: BANK.uuid }))).rejects.toMatchObject({ errors: { contractorBank: expect.any(Array) } });
    expect(repo.insert).not.toHaveBeenCalled();
    expect(fake.emitted).toEqual([]);
  });

  it('answers a replayed Idempotency-Key with the first payment id, inside the same command', async () => {
    const first = await sut.record(acc, ID, dto(), 'key-1');
    const again = await sut.record(acc, ID, dto(), 'key-1');
    expect(again).toEqual({ uuid: first.uuid, replayed: true });
    expect(idempotency.run).toHaveBeenCalledWith(fake.manager, acc.accountId, 'key-1', expect.anything(), expect.any(Function));
    expect(repo.payments).toHaveLength(1);
    expect(fake.emitted).toHaveLength(1);
  });

  it('replays the first answer to a retried Idempotency-Key though the interaction was deleted since', async () => {
    const first = await sut.record(acc, ID, dto(), 'key-lost-answer');
    repo.lock.mockResolvedValue(null);
    await expect(sut.record(acc, ID, dto(), 'key-lost-answer')).resolves.toEqual({ uuid: first.uuid, replayed: true });
    await expect(sut.record(acc, ID, dto(), 'key-new')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'interaction not found' });
    expect(repo.payments).toHaveLength(1);
    expect(fake.emitted).toHaveLength(1);
  });

  it('removes with interaction.payment.removed carrying the removed payment', async () => {
    const { uuid } = await sut.record(acc, ID, dto());
    await sut.remove(acc, ID, uuid);
    expect(repo.payments).toEqual([]);
    expect(fake.emitted.map((e) => e.type)).toEqual(['interaction.payment.recorded', 'interaction.payment.removed']);
    expect(fake.emitted[1]!.data).toMatchObject({ paymentsCount: 0, paidSum: 0, payment: { uuid, sum: 2500050 } });
    expect(fake.emitted[1]!.data).not.toHaveProperty('payments');
  });

  it('404s removing a payment the interaction does not have', async () => {
    await expect(sut.remove(acc, ID, '55555555-5555-4555-8555-555555555555')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'payment not found' });
    expect(fake.emitted).toEqual([]);
  });

  it("404s another account's interaction and emits nothing", async () => {
    const { uuid } = await sut.record(acc, ID, dto());
    await expect(sut.record(other, ID, dto())).rejects.toBeInstanceOf(NotFoundError);
    await expect(sut.remove(other, ID, uuid)).rejects.toMatchObject({ message: 'interaction not found' });
    expect(repo.payments).toHaveLength(1);
    expect(repo.delete).not.toHaveBeenCalled();
    expect(repo.insert).toHaveBeenCalledTimes(1);
    expect(fake.emitted).toHaveLength(1);
  });
});
