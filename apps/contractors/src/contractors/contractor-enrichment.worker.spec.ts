import type { ContractorsConfig } from '../config';
import type { LookupService } from '../lookup/lookup.service';
import { ContractorEnrichmentWorker } from './contractor-enrichment.worker';
import { ContractorsRepository, NOT_FOUND_RETRIES } from './contractors.repository';
import type { ContractorsService } from './contractors.service';

describe(ContractorEnrichmentWorker.name, () => {
  it('ends its pass at the first look-up the provider cannot answer, so a rate limit is not answered with more calls', async () => {
    const due = {
      contractors: [1, 2, 3].map((n) => ({ accountId: 'acc', id: `c${n}`, inn: `770708389${n}`, lookupAttempts: 0 })),
      banks: [{ accountId: 'acc', contractorId: 'c1', id: 'b1', bik: '044525225', lookupAttempts: 0 }],
    };
    const asked: string[] = [];
    const completed: string[] = [];
    const lookup = { client: { configured: true }, party: async (inn: string) => void asked.push(inn), bank: async (bik: string) => void asked.push(bik) };
    const service = {
      // The first call is answered, the second meets a 429 (deferred, as tryLookup reports it).
      tryLookup: async (fn: () => Promise<unknown>) => {
        await fn();
        return asked.length === 2 ? { status: 'pending', payload: null } : { status: 'ok', payload: {} };
      },
      completeContractorLookup: async (_a: string, id: string, o: { status: string }) => void completed.push(`${id}:${o.status}`),
      completeBankLookup: async (_a: string, _c: string, id: string, o: { status: string }) => void completed.push(`${id}:${o.status}`),
    };
    const sut = new ContractorEnrichmentWorker(
      { ENRICH_INTERVAL_MS: 60_000 } as ContractorsConfig,
      { dueLookupsAllAccounts: async () => due } as unknown as ContractorsRepository,
      service as unknown as ContractorsService,
      lookup as unknown as LookupService,
    );
    const passes: string[] = [];
    sut.addPass(async () => (passes.push('organisations'), true));
    await sut.tick();
    // Nor do the other features' passes run after it.
    expect(passes).toEqual([]);
    expect(asked).toEqual(['7707083891', '7707083892']);
    // The deferred one is still recorded (its attempt counted, backed off); the rest wait.
    expect(completed).toEqual(['c1:ok', 'c2:pending']);
  });

  it("runs the other features' passes after its own, each until one meets the provider down", async () => {
    const ran: string[] = [];
    const sut = new ContractorEnrichmentWorker(
      { ENRICH_INTERVAL_MS: 60_000 } as ContractorsConfig,
      { dueLookupsAllAccounts: async () => ({ contractors: [], banks: [] }) } as unknown as ContractorsRepository,
      {} as ContractorsService,
      { client: { configured: true } } as unknown as LookupService,
    );
    sut.addPass(async () => (ran.push('first'), false));
    sut.addPass(async () => (ran.push('second'), true));
    await sut.tick();
    expect(ran).toEqual(['first']);
  });

  it('gives a look-up that met DaData down for a while, then "not found", its seven daily retries all the same', async () => {
    // Nine outages in a row (pending, backing off), then DaData answers: no such INN yet.
    const due = {
      contractors: [{ accountId: 'acc', id: 'c1', inn: '7802857402', lookupStatus: 'pending', lookupAttempts: 9 }],
      banks: [{ accountId: 'acc', contractorId: 'c1', id: 'b1', bik: '044525225', lookupStatus: 'not_found', lookupAttempts: 3 }],
    };
    const written: Record<string, ReturnType<typeof ContractorsRepository.lookupFields>> = {};
    const service = {
      tryLookup: async () => ({ status: 'not_found', payload: null }),
      completeContractorLookup: async (_a: string, id: string, o: { status: 'not_found' }, attempts: number) => void (written[id] = ContractorsRepository.lookupFields(o.status, attempts)),
      completeBankLookup: async (_a: string, _c: string, id: string, o: { status: 'not_found' }, attempts: number) => void (written[id] = ContractorsRepository.lookupFields(o.status, attempts)),
    };
    const sut = new ContractorEnrichmentWorker(
      { ENRICH_INTERVAL_MS: 60_000 } as ContractorsConfig,
      { dueLookupsAllAccounts: async () => due } as unknown as ContractorsRepository,
      service as unknown as ContractorsService,
      { client: { configured: true }, party: async () => null, bank: async () => null } as unknown as LookupService,
    );
    await sut.tick();
    const tomorrow = Date.now() + 23 * 3600_000;
    // Asked again tomorrow, the first of its daily retries, not given up on.
    expect(written.c1).toMatchObject({ lookupStatus: 'not_found', lookupAttempts: 0 });
    expect(written.c1!.lookupNextAt!.getTime()).toBeGreaterThan(tomorrow);
    // A retry of a "not found" counts on, and stops after the last.
    expect(written.b1).toMatchObject({ lookupStatus: 'not_found', lookupAttempts: 4 });
    expect(ContractorsRepository.lookupFields('not_found', NOT_FOUND_RETRIES).lookupNextAt).toBeNull();
  });
});
