import type { ContractorsConfig } from '../config';
import type { LookupService } from '../lookup/lookup.service';
import { ContractorEnrichmentWorker, LOOKUP_FAILURE_BACKOFF_MS } from './contractor-enrichment.worker';
import { ContractorsRepository, NOT_FOUND_RETRIES } from './contractors.repository';
import type { ContractorsService } from './contractors.service';

/** A repository whose claims answer `due`, recording the releases and back-offs the worker asks for. */
function claiming(due: { contractors: object[]; banks: object[] }) {
  const calls: string[] = [];
  const repo = {
    claimDueContractorsAllAccounts: async () => (calls.push('claim contractors'), due.contractors),
    claimDueBankAccountsAllAccounts: async () => (calls.push('claim banks'), due.banks),
    releaseClaims: async (kind: string, rows: { id: string }[]) => void calls.push(`release ${kind} ${rows.map((r) => r.id).join(',')}`),
    backOffLookup: async (kind: string, id: string, ms: number) => void calls.push(`back off ${kind} ${id} ${ms}`),
  };
  return { repo: repo as unknown as ContractorsRepository, calls };
}

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
    const { repo, calls } = claiming(due);
    const sut = new ContractorEnrichmentWorker({ ENRICH_INTERVAL_MS: 60_000 } as ContractorsConfig, repo, service as unknown as ContractorsService, lookup as unknown as LookupService);
    const passes: string[] = [];
    sut.addPass(async () => (passes.push('organisations'), true));
    await sut.tick();
    // Nor do the other features' passes run after it.
    expect(passes).toEqual([]);
    expect(asked).toEqual(['7707083891', '7707083892']);
    // The deferred one is still recorded (its attempt counted, backed off); the rest wait.
    expect(completed).toEqual(['c1:ok', 'c2:pending']);
    // Those it claimed and did not get to are handed back to the next pass; the banks are not claimed.
    expect(calls).toEqual(['claim contractors', 'release contractor c3']);
  });

  it("runs the other features' passes after its own, each until one meets the provider down", async () => {
    const ran: string[] = [];
    const sut = new ContractorEnrichmentWorker(
      { ENRICH_INTERVAL_MS: 60_000 } as ContractorsConfig,
      claiming({ contractors: [], banks: [] }).repo,
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
      claiming(due).repo,
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

  it('backs off a row whose look-up keeps throwing (not a provider error) and goes on with the rest of the pass', async () => {
    const due = {
      contractors: ['c1', 'c2'].map((id, n) => ({ accountId: 'acc', id, inn: `770708389${n}`, lookupStatus: 'pending', lookupAttempts: 0 })),
      banks: [{ accountId: 'acc', contractorId: 'c2', id: 'b1', bik: '044525225', lookupStatus: 'pending', lookupAttempts: 0 }],
    };
    const completed: string[] = [];
    const service = {
      tryLookup: async () => ({ status: 'ok', payload: {} }),
      completeContractorLookup: async (_a: string, id: string) => {
        // Its write fails on a constraint, every time.
        if (id === 'c1') throw new Error('new row for relation "contractor" violates check constraint');
        completed.push(id);
      },
      completeBankLookup: async (_a: string, _c: string, id: string) => void completed.push(id),
    };
    const { repo, calls } = claiming(due);
    const sut = new ContractorEnrichmentWorker(
      { ENRICH_INTERVAL_MS: 60_000 } as ContractorsConfig,
      repo,
      service as unknown as ContractorsService,
      { client: { configured: true }, party: async () => ({}), bank: async () => ({}) } as unknown as LookupService,
    );
    const passes: string[] = [];
    sut.addPass(async () => (passes.push('organisations'), true));
    await sut.tick();
    expect(completed).toEqual(['c2', 'b1']);
    expect(passes).toEqual(['organisations']);
    expect(calls).toEqual(['claim contractors', `back off contractor c1 ${LOOKUP_FAILURE_BACKOFF_MS}`, 'claim banks']);
  });

  it('keeps a daily retry of a "not found" that meets DaData down as that retry (its count kept), asked again after the back-off', () => {
    const during = ContractorsRepository.stillWaiting({ lookupStatus: 'not_found', lookupAttempts: 5 }, 'pending', 6);
    expect(during).toMatchObject({ lookupStatus: 'not_found', lookupAttempts: 5 });
    expect(during.lookupNextAt!.getTime()).toBeLessThan(Date.now() + 3600_000 + 1000);
    // The next "not found" counts on from there (it started the seven over when the outage made it pending).
    expect(ContractorsRepository.nextAttempts(during.lookupStatus, 'not_found', during.lookupAttempts)).toBe(6);
    // A pending look-up meeting an outage stays pending, backing off.
    expect(ContractorsRepository.stillWaiting({ lookupStatus: 'pending', lookupAttempts: 2 }, 'pending', 3)).toMatchObject({ lookupStatus: 'pending', lookupAttempts: 3 });
  });
});

