import { randomUUID } from 'node:crypto';
import { startFakeMoysklad, type FakeMoysklad } from '@papka/testing';
import { ConnectorError, InvalidSettings, type ConnectorOptions, type ContractorData, type DocumentData, type PaymentData } from '../connector';
import { MoyskladConnector, parseMoyskladSettings } from './moysklad.connector';
import { syncIdOf } from './moysklad.mapper';

describe('MoyskladConnector against the fake MoySklad', () => {
  let fake: FakeMoysklad;
  let sut: MoyskladConnector;
  const connectionId = randomUUID();

  const options = (settings: Record<string, unknown>, token = fake.token): ConnectorOptions => ({
    urls: { adesk: 'http://127.0.0.1:1', moysklad: fake.url },
    allowedHosts: [],
    maxFileBytes: 1,
    files: { open: () => Promise.reject(new Error('no files')) },
    token,
    settings,
    connectionTag: connectionId.slice(0, 8),
    connectionId,
    timeoutMs: 2_000,
    batchSize: 100,
  });

  const contractor: ContractorData = { id: randomUUID(), type: 2, name: 'ООО Ромашка', inn: '7707083893', kpp: '773601001', address: 'Москва', ogrn: null, legalName: null, legalAddress: null, banks: [] };
  const payment = (over: Partial<PaymentData>): PaymentData => ({
    id: randomUUID(),
    type: 'income',
    name: 'Оплата',
    sum: 100_00,
    date: '2026-11-30',
    interactionId: randomUUID(),
    contractorId: contractor.id,
    contractorRemoteId: '',
    projectRemoteId: '',
    invoice: null,
    ...over,
  });

  beforeEach(async () => {
    fake = await startFakeMoysklad();
    const raw = parseMoyskladSettings({ tokenKind: 'solution' });
    const settings = await new MoyskladConnector(fake.url, options(raw)).check(raw);
    sut = new MoyskladConnector(fake.url, options(settings));
  });
  afterEach(async () => {
    await sut.close();
    await fake.close();
  });

  it('fills in the organization, the expense item and the invoice service (made once), and names a bad setting', async () => {
    expect(parseMoyskladSettings({})).toEqual({ tokenKind: 'user' });
    expect(() => parseMoyskladSettings({ tokenKind: 'admin' })).toThrow(InvalidSettings);
    expect(() => parseMoyskladSettings({ organizationId: '12' })).toThrow(expect.objectContaining({ field: 'settings.organizationId' }));
    const checked = await sut.check({ tokenKind: 'solution' });
    // The beforeEach's check made the service; this one found it.
    expect(fake.services()).toEqual([expect.objectContaining({ name: 'Услуги по счёту', externalCode: 'papka-invoice' })]);
    expect(checked).toEqual({ tokenKind: 'solution', organizationId: fake.organizations()[0]!.id, expenseItemId: fake.expenseItems()[0]!.id, invoiceServiceId: fake.services()[0]!.id });
    const own = fake.seed('service', { name: 'Консультации' });
    expect((await sut.check({ invoiceServiceId: own.id as string })).invoiceServiceId).toBe(own.id);
    await expect(sut.check({ invoiceServiceId: randomUUID() })).rejects.toMatchObject({ failure: 'rejected', method: 'settings.invoiceServiceId' });
    await expect(sut.check({ organizationId: randomUUID() })).rejects.toMatchObject({ failure: 'rejected', method: 'settings.organizationId' });
    await expect(sut.check({ organizationAccountId: randomUUID() })).rejects.toMatchObject({ method: 'settings.organizationAccountId' });
  });

  it('creates, finds, reads, lists and removes payments, item by item', async () => {
    const [step] = sut.contractorSteps(contractor, () => undefined, false);
    const agent = await step!.run();
    expect(await step!.find()).toBe(agent);

    const doc = { id: randomUUID(), kind: 'invoice', name: 'Счёт 1', sum: 500_00, createdAt: '2026-11-30T10:00:00.000Z', interactionId: randomUUID(), contractor: { id: contractor.id, remoteId: agent } } as unknown as DocumentData;
    const invoice = await sut.documentSteps(doc, () => undefined, false)[0]!.run();
    // Its sum is MoySklad's own, from the one position at the invoice's sum.
    expect(fake.invoicesOut()[0]).toMatchObject({ id: invoice, sum: 500_00, positions: { rows: [{ quantity: 1, price: 500_00, assortment: { meta: { type: 'service' } } }] } });

    const income = payment({ contractorRemoteId: agent, invoice: { id: doc.id, sum: doc.sum, remoteId: invoice } });
    const outcome = payment({ type: 'outcome', contractorRemoteId: agent });
    const orphan = payment({ contractorRemoteId: randomUUID() });
    const results = await sut.createPayments([income, orphan, outcome]);
    expect(typeof results[0]).toBe('string');
    expect(results[1]).toBeInstanceOf(ConnectorError);
    expect(results[1]).toMatchObject({ failure: 'rejected', message: expect.stringContaining('1021') });
    expect(typeof results[2]).toBe('string');
    expect(fake.paymentsIn()[0]).toMatchObject({ syncId: syncIdOf(connectionId, 'paymentin', income.id), operations: [{ linkedSum: 100_00 }] });

    const found = await sut.findPayments([income, outcome, orphan]);
    expect(Object.fromEntries(found)).toEqual({ [income.id]: [results[0]], [outcome.id]: [results[2]] });
    expect(await sut.readPayment(results[2] as string)).toMatchObject({ entityId: outcome.id, type: 'outcome', sum: 100_00, contractorRemoteId: agent });
    expect((await sut.listPayments('2026-11-30', '2026-11-30')).map((p) => p.entityId).sort()).toEqual([income.id, outcome.id].sort());
    expect(await sut.listDocuments('2026-11-30', '2026-11-30')).toEqual([{ remoteId: invoice, entityId: doc.id, sum: 500_00 }]);

    await sut.removePayments([results[0] as string, results[2] as string]);
    expect([fake.paymentsIn().length, fake.paymentsOut().length]).toEqual([0, 0]);
    // Removing what is gone counts as removed.
    await sut.removePayments([results[0] as string]);
    expect(await sut.readPayment(results[0] as string)).toBeNull();
  });

  it('adopts the counterparty the account already has with the INN (and KPP) instead of making a second one', async () => {
    const own = fake.seed('counterparty', { name: 'Ромашка (ручной)', inn: contractor.inn, kpp: contractor.kpp, externalCode: '1c-000123' });
    // Another branch (another KPP) of the same company is not the one.
    fake.seed('counterparty', { name: 'Ромашка, филиал', inn: contractor.inn, kpp: '773602002' });
    const [create] = sut.contractorSteps(contractor, () => undefined, false);
    expect(await create!.run()).toBe(own.id);
    const withKpp = fake.counterparties().filter((c) => c.inn === contractor.inn && c.kpp === contractor.kpp);
    expect(withKpp).toHaveLength(1);
    // Papka's fields, its own externalCode (1C matches it by that) kept.
    expect(withKpp[0]).toMatchObject({ id: own.id, name: contractor.name, externalCode: '1c-000123', description: `[papka:${contractor.id}]` });
    // A resend finds the same one: it is ours now.
    expect(await create!.run()).toBe(own.id);
    expect(fake.counterparties()).toHaveLength(2);
  });

  it('makes its own counterparty when the one with the INN is another Papka contractor\'s, when two match, or when the engine has it mapped', async () => {
    const first = await sut.contractorSteps(contractor, () => undefined, false)[0]!.run();
    // A second Papka contractor with the same INN does not take the first one's.
    const twin: ContractorData = { ...contractor, id: randomUUID(), name: 'ООО Ромашка (дубль)' };
    const second = await sut.contractorSteps(twin, () => undefined, false)[0]!.run();
    expect(second).not.toBe(first);
    expect(fake.counterparties().find((c) => c.id === second)).toMatchObject({ externalCode: twin.id, syncId: syncIdOf(connectionId, 'counterparty', twin.id) });
    // Two of the account's own with one INN: which one is unknown, so none is taken.
    const other: ContractorData = { ...contractor, id: randomUUID(), inn: '7728168971', kpp: null };
    fake.seed('counterparty', { name: 'Альфа 1', inn: other.inn });
    fake.seed('counterparty', { name: 'Альфa 2', inn: other.inn });
    const made = await sut.contractorSteps(other, () => undefined, false)[0]!.run();
    // (MoySklad gives each of its own a random externalCode.)
    expect(fake.counterparties().filter((c) => c.inn === other.inn).map((c) => [c.name, c.externalCode === other.id])).toEqual([['Альфа 1', false], ['Альфa 2', false], [other.name, true]]);
    expect(fake.counterparties().find((c) => c.id === made)).toMatchObject({ externalCode: other.id });
    // After an unknown outcome the look-up also asks the engine whether a match is mapped to another entity.
    const third: ContractorData = { ...contractor, id: randomUUID(), inn: '7702070139', kpp: null };
    const lone = fake.seed('counterparty', { name: 'Бета', inn: third.inn });
    const [step] = sut.contractorSteps(third, () => undefined, false);
    expect(await step!.find(async (id) => id === lone.id)).toBeNull();
    expect(await step!.find(async () => false)).toBe(lone.id);
  });

  it('throws a batch whose every call failed as a whole (an unknown outcome, a tariff block)', async () => {
    const agent = await sut.contractorSteps(contractor, () => undefined, false)[0]!.run();
    fake.setCommitThenDrop(1);
    await expect(sut.createPayments([payment({ contractorRemoteId: agent })])).rejects.toMatchObject({ failure: 'outcome_unknown' });
    fake.clearFaults();
    fake.setTariffBlock(1070);
    await expect(sut.createPayments([payment({ contractorRemoteId: agent }), payment({ type: 'outcome', contractorRemoteId: agent })])).rejects.toMatchObject({ failure: 'payment_required' });
  });
});
