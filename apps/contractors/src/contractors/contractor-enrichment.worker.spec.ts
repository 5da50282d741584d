import type { ContractorsConfig } from '../config';
import type { LookupService } from '../lookup/lookup.service';
import { ContractorEnrichmentWorker } from './contractor-enrichment.worker';
import type { ContractorsRepository } from './contractors.repository';
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
});
