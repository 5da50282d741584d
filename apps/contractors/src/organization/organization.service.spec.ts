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
    version: async () => (row ? 'v1' : null),
    lock: async () => ({ row, version: row ? 'v1' : null }),
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

  it('keeps nothing of another INN, and still asks for a name it cannot look up', async () => {
    const { sut } = duringAnOutage(stored());
    await expect(sut.update(acc, { inn: '7707083893' } as never)).rejects.toMatchObject({ status: 400, errors: { name: [expect.any(String)] } });
    const other = duringAnOutage(stored());
    await other.sut.update(acc, { inn: '7707083893', name: 'ПАО Сбербанк' } as never);
    expect(other.saved()).toMatchObject({ inn: '7707083893', name: 'ПАО Сбербанк', ogrn: null, address: null, director: null, fullInfo: null });
  });
});
