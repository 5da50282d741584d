import type { AccountContext } from '@papka/auth';
import { MAX_BANK_ACCOUNTS_PER_CONTRACTOR, MAX_CONTACTS_PER_CONTRACTOR } from '@papka/contracts';
import { ConflictError, NotFoundError, ValidationFailedError, type Idempotency } from '@papka/platform';
import { dadataFixtures, fakeCommands } from '@papka/testing';
import { ProviderUnavailableError } from '../lookup/dadata.client';
import type { LookupService } from '../lookup/lookup.service';
import { toSnapshot, type ContractorAggregate } from './contractor.mapper';
import type { BankAccount, Contact, Contractor } from './contractor.entity';
import type { ContractorsRepository } from './contractors.repository';
import { ContractorsService } from './contractors.service';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;

function aggregate(id: string, over: Partial<Contractor> = {}): ContractorAggregate {
  const now = new Date('2026-01-01T00:00:00Z');
  return {
    contractor: { id, accountId: acc.accountId, type: 1, name: 'ООО Ромашка', inn: null, address: null, fullInfo: null, createdAt: now, updatedAt: now, ...over } as Contractor,
    bankAccounts: [],
    contacts: [],
  };
}

/** Repository stand-in holding the contractors of `acc` only, as the SQL filters would. */
function fakeRepo() {
  const rows = new Map<string, ContractorAggregate>();
  const own = (accountId: string, id: string) => (accountId === acc.accountId ? rows.get(id) : undefined);
  const repo = {
    rows,
    insert: jest.fn(async (_m: unknown, _a: string, c: { id: string; inn: string | null; lookupStatus: string }) => {
      rows.set(c.id, aggregate(c.id, { inn: c.inn, lookupStatus: c.lookupStatus as Contractor['lookupStatus'] }));
    }),
    lock: jest.fn(async (_m: unknown, a: string, id: string) => own(a, id)?.contractor ?? null),
    find: jest.fn(async (a: string, id: string) => own(a, id) ?? null),
    findView: jest.fn(async (a: string, id: string) => {
      const g = own(a, id);
      return g ? { uuid: id, bankInfo: g.bankAccounts, contactInfo: g.contacts } : null;
    }),
    countChildren: jest.fn(async (_m: unknown, a: string, id: string) => {
      const g = own(a, id)!;
      return { bankAccounts: g.bankAccounts.length, contacts: g.contacts.length };
    }),
    delete: jest.fn(async (_m: unknown, _a: string, id: string) => void rows.delete(id)),
    touch: jest.fn(async () => undefined),
    insertBankAccount: jest.fn(async () => undefined),
    deleteBankAccount: jest.fn(async () => false),
    insertContact: jest.fn(async () => undefined),
    deleteContact: jest.fn(async () => false),
  };
  return repo;
}

/** Idempotency stand-in: the first answer per key, replayed. */
function fakeIdempotency() {
  const seen = new Map<string, string>();
  return {
    replay: jest.fn(async (_a: string, key: string | undefined) => (key && seen.has(key) ? { uuid: seen.get(key)!, replayed: true } : null)),
    run: jest.fn(async (_m: unknown, _a: string, key: string | undefined, _body: unknown, create: () => Promise<string>) => {
      if (key && seen.has(key)) return { uuid: seen.get(key)!, replayed: true };
      const uuid = await create();
      if (key) seen.set(key, uuid);
      return { uuid, replayed: false };
    }),
  };
}

describe(ContractorsService.name, () => {
  let repo: ReturnType<typeof fakeRepo>;
  let lookup: { party: jest.Mock; bank: jest.Mock };
  let fake: ReturnType<typeof fakeCommands>;
  let sut: ContractorsService;

  beforeEach(() => {
    repo = fakeRepo();
    lookup = { party: jest.fn(async () => null), bank: jest.fn(async () => null) };
    fake = fakeCommands();
    sut = new ContractorsService(
      repo as unknown as ContractorsRepository,
      lookup as unknown as LookupService,
      fake.commands,
      fakeIdempotency() as unknown as Idempotency,
    );
  });

  it('400s an INN whose length does not fit the type, naming inn, before looking it up or storing anything', async () => {
    const err = await sut.create(acc, { type: 2, name: 'x', inn: '501817999160' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailedError);
    expect((err as ValidationFailedError).errors).toHaveProperty('inn');
    expect(lookup.party).not.toHaveBeenCalled();
    expect(repo.insert).not.toHaveBeenCalled();
    expect(fake.emitted).toEqual([]);
  });

  it('creates with contractor.created carrying the snapshot', async () => {
    const { uuid } = await sut.create(acc, { type: 1, name: 'ООО Ромашка' });
    expect(fake.emitted).toEqual([expect.objectContaining({ type: 'contractor.created', aggregateId: uuid, accountId: acc.accountId })]);
    expect((fake.emitted[0]!.data as { uuid: string }).uuid).toBe(uuid);
  });

  it('answers a replayed Idempotency-Key with the first uuid and creates nothing more', async () => {
    const first = await sut.create(acc, { type: 1, name: 'a' }, 'key-1');
    const again = await sut.create(acc, { type: 1, name: 'a' }, 'key-1');
    expect(again.uuid).toBe(first.uuid);
    expect(repo.insert).toHaveBeenCalledTimes(1);
    expect(fake.emitted).toHaveLength(1);
  });

  it('answers a replayed Idempotency-Key without asking DaData again', async () => {
    await sut.create(acc, { type: 2, name: 'Сбер', inn: '7707083893' }, 'key-2');
    expect(lookup.party).toHaveBeenCalledTimes(1);
    const again = await sut.create(acc, { type: 2, name: 'Сбер', inn: '7707083893' }, 'key-2');
    expect(again.replayed).toBe(true);
    expect(lookup.party).toHaveBeenCalledTimes(1);
  });

  it('turns the unique INN violation into 409 DUPLICATE_INN naming inn', async () => {
    repo.insert.mockRejectedValueOnce(Object.assign(new Error('duplicate'), { code: '23505', constraint: 'uq_contractor_account_inn' }));
    const err = await sut.create(acc, { type: 2, name: 'x', inn: '7707083893' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'DUPLICATE_INN', errors: { inn: expect.any(Array) } });
  });

  it("does not look a natural person's INN up (an entrepreneur's record of the same INN would make the person an ИП)", async () => {
    lookup.party.mockResolvedValue({ value: 'ИП Иванов Иван Иванович', data: { inn: '500100732259', state: { status: 'LIQUIDATED' } } });
    const { uuid } = await sut.create(acc, { type: 3, name: 'Иванов Иван Иванович', inn: '500100732259' });
    expect(lookup.party).not.toHaveBeenCalled();
    expect(repo.rows.get(uuid)!.contractor).toMatchObject({ fullInfo: null, lookupStatus: 'none' });
    await sut.create(acc, { type: 1, name: 'ИП Иванов', inn: '500100732259' });
    expect(lookup.party).toHaveBeenCalledWith('500100732259');
  });

  it('creates while the provider is down, with the look-up left pending', async () => {
    lookup.party.mockRejectedValueOnce(new ProviderUnavailableError('down'));
    const { uuid } = await sut.create(acc, { type: 2, name: 'x', inn: '7707083893' });
    expect(repo.rows.get(uuid)!.contractor.lookupStatus).toBe('pending');
  });

  it("404s another account's contractor on every change and emits nothing", async () => {
    repo.rows.set('c-1', aggregate('c-1'));
    const other = { ...acc, accountId: 'acc-2' } as AccountContext;
    for (const call of [
      () => sut.remove(other, 'c-1'),
      () => sut.addContact(other, 'c-1', { fio: 'Иванов' }),
      () => sut.removeContact(other, 'c-1', 'k-1'),
      () => sut.removeBankAccount(other, 'c-1', 'b-1'),
      () => sut.get(other, 'c-1'),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(NotFoundError);
    }
    expect(repo.rows.has('c-1')).toBe(true);
    expect(fake.emitted).toEqual([]);
  });

  it('404s a bank account or contact the contractor does not have, emitting nothing', async () => {
    repo.rows.set('c-1', aggregate('c-1'));
    await expect(sut.removeBankAccount(acc, 'c-1', 'nope')).rejects.toThrow('bank account not found');
    await expect(sut.removeContact(acc, 'c-1', 'nope')).rejects.toThrow('contact not found');
    expect(fake.emitted).toEqual([]);
  });

  it('emits contractor.updated when a contact is added', async () => {
    repo.rows.set('c-1', aggregate('c-1'));
    await sut.addContact(acc, 'c-1', { fio: 'Иванов' });
    expect(repo.touch).toHaveBeenCalled();
    expect(fake.emitted.map((e) => e.type)).toEqual(['contractor.updated']);
  });

  describe('limits that keep a contractor event bounded', () => {
    const bank = (n: number, fullInfo: unknown = null) =>
      ({ id: `b-${n}`, bik: '044525104', number: `4080281022000000${String(n).padStart(4, '0')}`, name: 'Расчетный счёт', fullInfo, createdAt: new Date() }) as unknown as BankAccount;
    const contact = (n: number, fio = `Контакт ${n}`) => ({ id: `k-${n}`, fio, phone: null, post: null, email: null, createdAt: new Date() }) as unknown as Contact;
    const withChildren = (banks: number, contacts: number) => {
      const g = aggregate('c-1');
      g.bankAccounts = Array.from({ length: banks }, (_, n) => bank(n));
      g.contacts = Array.from({ length: contacts }, (_, n) => contact(n));
      repo.rows.set('c-1', g);
      return g;
    };

    it(`409s the bank account above ${MAX_BANK_ACCOUNTS_PER_CONTRACTOR}, naming bankInfo, before calling the provider`, async () => {
      withChildren(MAX_BANK_ACCOUNTS_PER_CONTRACTOR, 0);
      const err = await sut.addBankAccount(acc, 'c-1', { bik: '044525104', number: '40802810220000499329' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({ status: 409, code: 'CONTRACTOR_LIMIT_REACHED', errors: { bankInfo: [expect.stringContaining(`at most ${MAX_BANK_ACCOUNTS_PER_CONTRACTOR}`)] } });
      expect(lookup.bank).not.toHaveBeenCalled();
      expect(repo.insertBankAccount).not.toHaveBeenCalled();
      expect(fake.emitted).toEqual([]);
    });

    it('checks the bank-account limit again under the row lock (a concurrent add filled it)', async () => {
      const g = withChildren(MAX_BANK_ACCOUNTS_PER_CONTRACTOR - 1, 0);
      repo.countChildren.mockResolvedValueOnce({ bankAccounts: MAX_BANK_ACCOUNTS_PER_CONTRACTOR, contacts: 0 });
      await expect(sut.addBankAccount(acc, 'c-1', { bik: '044525104', number: '40802810220000499329' })).rejects.toMatchObject({ code: 'CONTRACTOR_LIMIT_REACHED' });
      expect(repo.insertBankAccount).not.toHaveBeenCalled();
      // ... and the last one below the limit is fine.
      g.bankAccounts.length = MAX_BANK_ACCOUNTS_PER_CONTRACTOR - 1;
      await sut.addBankAccount(acc, 'c-1', { bik: '044525104', number: '40802810220000499329' });
      expect(repo.insertBankAccount).toHaveBeenCalledTimes(1);
      expect(fake.emitted.map((e) => e.type)).toEqual(['contractor.updated']);
    });

    it(`409s the contact above ${MAX_CONTACTS_PER_CONTRACTOR}, naming contactInfo; the last one below it is fine`, async () => {
      const g = withChildren(0, MAX_CONTACTS_PER_CONTRACTOR);
      await expect(sut.addContact(acc, 'c-1', { fio: 'Лишний' })).rejects.toMatchObject({ status: 409, code: 'CONTRACTOR_LIMIT_REACHED', errors: { contactInfo: expect.any(Array) } });
      expect(repo.insertContact).not.toHaveBeenCalled();
      g.contacts.pop();
      await sut.addContact(acc, 'c-1', { fio: 'Последний' });
      expect(repo.insertContact).toHaveBeenCalledTimes(1);
    });

    it('keeps a contractor event at the limits, every field at its longest, well under 1 MiB', () => {
      const g = aggregate('c-1', { name: 'Ж'.repeat(500), address: 'Ж'.repeat(1000), fullInfo: dadataFixtures.partyLegal() } as Partial<Contractor>);
      const bankInfo = dadataFixtures.bankTochka();
      g.bankAccounts = Array.from({ length: MAX_BANK_ACCOUNTS_PER_CONTRACTOR }, (_, n) => ({ ...bank(n, bankInfo), name: 'Ж'.repeat(200) }) as BankAccount);
      g.contacts = Array.from(
        { length: MAX_CONTACTS_PER_CONTRACTOR },
        (_, n) => ({ ...contact(n, 'Ж'.repeat(300)), phone: '+7 916 123-45-67', post: 'Ж'.repeat(200), email: `${'a'.repeat(64)}@${'b'.repeat(250)}.ru` }) as Contact,
      );
      const bytes = Buffer.byteLength(JSON.stringify(toSnapshot(g)));
      expect(bytes).toBeGreaterThan(300 * 1024); // the fixtures are real-sized
      expect(bytes).toBeLessThan(600 * 1024);
    });
  });

  it('deletes with contractor.deleted carrying the last snapshot', async () => {
    repo.rows.set('c-1', aggregate('c-1', { name: 'Последнее имя' }));
    await sut.remove(acc, 'c-1');
    expect(fake.emitted).toEqual([expect.objectContaining({ type: 'contractor.deleted', aggregateId: 'c-1' })]);
    expect((fake.emitted[0]!.data as { mainInfo: { name: string } }).mainInfo.name).toBe('Последнее имя');
  });
});
