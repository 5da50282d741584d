import type { AccountContext } from '@papka/auth';
import type { Commands } from '@papka/messaging';
import { fakeCommands } from '@papka/testing';
import type { ContractorsService } from '../contractors/contractors.service';
import type { LookupService } from '../lookup/lookup.service';
import type { Organization } from './organization.entity';
import type { OrganizationRepository } from './organization.repository';
import { OrganizationService } from './organization.service';

const acc = { accountId: 'acc-1', userId: 'u' } as AccountContext;
const INN = '501817999160';
const BIK = '044525104';
const bankObject = { value: 'ТОЧКА ПАО БАНКА "ФК ОТКРЫТИЕ"', data: { bic: BIK } };

/** The organisation as a successful look-up filled it in earlier. */
const stored = (): Organization =>
  ({
    accountId: acc.accountId,
    inn: INN,
    kpp: null,
    ogrn: '324508100678148',
    name: 'ИП Артиков Тимур Дилшодович',
    address: 'Московская обл, г Щёлково',
    director: 'Артиков Тимур Дилшодович',
    directorPost: 'Индивидуальный предприниматель',
    bankAccounts: [{ id: 'b1', bik: BIK, number: '40802810220000499329', name: 'Расчетный счёт', fullInfo: bankObject }],
    fullInfo: { value: 'ИП Артиков Тимур Дилшодович', data: { ogrn: '324508100678148' } },
    updatedAt: new Date('2026-11-01T00:00:00Z'),
  }) as unknown as Organization;

/** The service with DaData down for every look-up, over `existing`. */
function duringAnOutage(existing: Organization | null) {
  let row = existing;
  const repo = {
    lock: async () => row,
    save: async (_m: unknown, _acc: string, next: Organization) => (row = { ...next, accountId: acc.accountId } as Organization),
  } as unknown as OrganizationRepository;
  const contractors = { tryLookup: async () => ({ status: 'pending' as const, payload: null }) } as unknown as ContractorsService;
  const sut = new OrganizationService(repo, fakeCommands().commands as unknown as Commands, {} as LookupService, contractors);
  return { sut, saved: () => row };
}

describe(OrganizationService.name, () => {
  it('keeps what the last look-up filled in when saving the same INN while DaData is down', async () => {
    const { sut, saved } = duringAnOutage(stored());
    await sut.update(acc, { inn: INN, bankAccounts: [{ bik: BIK, number: '40802810220000499329' }] } as never);
    expect(saved()).toMatchObject({
      name: 'ИП Артиков Тимур Дилшодович',
      ogrn: '324508100678148',
      address: 'Московская обл, г Щёлково',
      director: 'Артиков Тимур Дилшодович',
      directorPost: 'Индивидуальный предприниматель',
      fullInfo: { value: 'ИП Артиков Тимур Дилшодович', data: { ogrn: '324508100678148' } },
      bankAccounts: [expect.objectContaining({ bik: BIK, fullInfo: bankObject })],
    });
  });

  it('looks each BIK up once, and none after the provider could not answer: the worker does the rest', async () => {
    let row: Organization | null = null;
    const repo = {
      lock: async () => row,
      save: async (_m: unknown, _acc: string, next: Organization) => (row = { ...next, accountId: acc.accountId } as Organization),
    } as unknown as OrganizationRepository;
    const asked: string[] = [];
    const lookup = {
      party: async () => ({ value: 'ООО Папка', data: {} }),
      bank: async (bik: string) => (asked.push(bik), bik === '044525999' ? null : bankObject),
    } as unknown as LookupService;
    // Answers as the real one does: a call that throws "unavailable" is deferred.
    const contractors = {
      tryLookup: async (fn: () => Promise<unknown>) => {
        const payload = await fn();
        return asked.at(-1) === '044525000' ? { status: 'pending' as const, payload: null } : { status: payload ? ('ok' as const) : ('not_found' as const), payload };
      },
    } as unknown as ContractorsService;
    const sut = new OrganizationService(repo, fakeCommands().commands as unknown as Commands, lookup, contractors);
    const account = (bik: string, n: number) => ({ bik, number: `4070281000000000000${n}` });
    await sut.update(acc, {
      inn: '7707083893',
      bankAccounts: [account(BIK, 1), account(BIK, 2), account('044525999', 3), account('044525000', 4), account('044525111', 5), account(BIK, 6)],
    } as never);
    expect(asked).toEqual([BIK, '044525999', '044525000']);
    expect((row as unknown as Organization).bankAccounts.map((b) => (b as { fullInfo: unknown }).fullInfo)).toEqual([bankObject, bankObject, null, null, null, bankObject]);
  });

  it('keeps nothing of another INN, and still asks for a name it cannot look up', async () => {
    const { sut } = duringAnOutage(stored());
    await expect(sut.update(acc, { inn: '7707083893' } as never)).rejects.toMatchObject({ status: 400, errors: { name: [expect.any(String)] } });
    const other = duringAnOutage(stored());
    await other.sut.update(acc, { inn: '7707083893', name: 'ПАО Сбербанк' } as never);
    expect(other.saved()).toMatchObject({ inn: '7707083893', name: 'ПАО Сбербанк', ogrn: null, address: null, director: null, fullInfo: null });
  });

  describe('two PUTs whose look-ups overlap', () => {
    /** A service over one stored row whose party look-ups end when the test says. */
    function withControlledLookups() {
      let row: Organization | null = stored();
      const waiting: ((outcome: { status: 'ok'; payload: object }) => void)[] = [];
      const repo = {
        lock: async () => row,
        save: async (_m: unknown, _acc: string, next: Organization) => (row = { ...next, accountId: acc.accountId } as Organization),
      } as unknown as OrganizationRepository;
      const contractors = { tryLookup: () => new Promise((resolve) => waiting.push(resolve)) } as unknown as ContractorsService;
      const sut = new OrganizationService(repo, fakeCommands().commands as unknown as Commands, {} as LookupService, contractors);
      const answer = async (i: number) => {
        while (!waiting[i]) await new Promise((r) => setImmediate(r));
        waiting[i]!({ status: 'ok', payload: { value: 'ИП Артиков Тимур Дилшодович', data: {} } });
      };
      return { sut, answer, saved: () => row };
    }

    it('refuses the earlier one when the later one was saved first', async () => {
      const { sut, answer, saved } = withControlledLookups();
      const first = sut.update(acc, { inn: INN, name: 'Опечатка' } as never);
      await new Promise((r) => setTimeout(r, 2)); // received a moment later
      const second = sut.update(acc, { inn: INN, name: 'Исправлено' } as never);
      await answer(1);
      await expect(second).resolves.toMatchObject({ name: 'Исправлено' });
      await answer(0);
      await expect(first).rejects.toMatchObject({ status: 409, code: 'ORGANIZATION_CHANGED' });
      expect(saved()).toMatchObject({ name: 'Исправлено' });
    });

    it('lets the later one overwrite the earlier one when the earlier one was saved first', async () => {
      const { sut, answer, saved } = withControlledLookups();
      const first = sut.update(acc, { inn: INN, name: 'Опечатка' } as never);
      await new Promise((r) => setTimeout(r, 2));
      const second = sut.update(acc, { inn: INN, name: 'Исправлено' } as never);
      await answer(0);
      await expect(first).resolves.toMatchObject({ name: 'Опечатка' });
      await answer(1);
      await expect(second).resolves.toMatchObject({ name: 'Исправлено' });
      expect(saved()).toMatchObject({ name: 'Исправлено' });
    });
  });

  it('keeps the default VAT when a PUT omits it and clears it with null', async () => {
    const { sut, saved } = duringAnOutage({ ...stored(), vatRate: 'none' } as Organization);
    await sut.update(acc, { inn: INN } as never);
    expect(saved()!.vatRate).toBe('none');
    await sut.update(acc, { inn: INN, vatRate: '10' } as never);
    expect(saved()!.vatRate).toBe('10');
    await sut.update(acc, { inn: INN, vatRate: null } as never);
    expect(saved()!.vatRate).toBeNull();
  });

  describe('the enrichment pass', () => {
    /** Two organisations saved during an outage (party not looked up), claimed in this order. */
    function pendingOrganizations() {
      const rows = new Map<string, Organization>(
        ['acc-bad', 'acc-good'].map((accountId) => [accountId, { ...stored(), accountId, fullInfo: null, kpp: null, bankAccounts: [], lookupStatus: 'pending', lookupAttempts: 0, receivedAt: null } as unknown as Organization]),
      );
      const calls: string[] = [];
      const repo = {
        claimDueLookupsAllAccounts: async () => [...rows.values()].map((org) => ({ org, dueAt: new Date(0), leasedUntil: new Date(1) })),
        lock: async (_m: unknown, accountId: string) => rows.get(accountId) ?? null,
        save: async (_m: unknown, accountId: string, next: Organization) => {
          rows.set(accountId, { ...next, accountId } as Organization);
          calls.push(`saved ${accountId}`);
          return rows.get(accountId);
        },
        releaseClaims: async (claims: { org: Organization }[]) => void calls.push(`released ${claims.map((c) => c.org.accountId).join(',')}`),
        backOffLookup: async (accountId: string) => void calls.push(`backed off ${accountId}`),
      } as unknown as OrganizationRepository;
      return { repo, calls };
    }

    it('backs off an organisation whose retry keeps throwing (not a provider error) and goes on with the next', async () => {
      const { repo, calls } = pendingOrganizations();
      const lookup = {
        party: async (inn: string) => {
          // A look-up that breaks for a reason of its own (say the cache write fails), every pass.
          if (calls.length === 0) throw new Error(`cache write failed for ${inn}`);
          return { value: 'ИП Артиков Тимур Дилшодович', data: { kpp: '500101001' } };
        },
      } as unknown as LookupService;
      const contractors = { tryLookup: async (fn: () => Promise<object | null>) => ({ status: 'ok' as const, payload: await fn() }) } as unknown as ContractorsService;
      const sut = new OrganizationService(repo, fakeCommands().commands as unknown as Commands, lookup, contractors);
      await expect(sut.retryDueLookups()).resolves.toBe(true);
      expect(calls).toEqual(['backed off acc-bad', 'saved acc-good']);
    });

    it('hands back the organisations it claimed and did not get to when the provider could not answer', async () => {
      const { repo, calls } = pendingOrganizations();
      const contractors = { tryLookup: async () => ({ status: 'pending' as const, payload: null }) } as unknown as ContractorsService;
      const sut = new OrganizationService(repo, fakeCommands().commands as unknown as Commands, {} as LookupService, contractors);
      await expect(sut.retryDueLookups()).resolves.toBe(false);
      expect(calls).toEqual(['saved acc-bad', 'released acc-good']);
    });
  });
});
