import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type ContractorsConfig } from '../config';
import { LookupService } from '../lookup/lookup.service';
import type { LookupStatus } from './contractor.entity';
import { ContractorsRepository, type ClaimedLookup } from './contractors.repository';
import { ContractorsService } from './contractors.service';

/** How many due rows of each table a pass claims. */
const BATCH = 50;
/**
 * How long a pass holds the rows it claimed: no other replica's pass takes them meanwhile. A pass
 * ends at the first look-up DaData does not answer within DADATA_TIMEOUT_MS, but one answering
 * slowly inside it can take BATCH of them (150 s at the default 3 s, past the 2 minutes this
 * was): 10 minutes covers that up to a 12 s timeout. Rows of a pass that died with its replica
 * are due again once it runs out (deferred look-ups are hours apart anyway).
 */
export const LOOKUP_LEASE_MS = 10 * 60_000;
/** When a row whose look-up threw (not a provider error) is tried again. */
export const LOOKUP_FAILURE_BACKOFF_MS = 15 * 60_000;

/**
 * Retries look-ups that could not be done when a contractor or bank account was created
 * (provider down), with exponential back-off, and emits `contractor.updated` once filled. Other
 * features add their own deferred look-ups as passes (the organisation's, `addPass`).
 */
@Injectable()
export class ContractorEnrichmentWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ContractorEnrichmentWorker.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Each returns false when the provider could not answer one of its look-ups. */
  private readonly passes: (() => Promise<boolean>)[] = [];

  constructor(
    @Inject(CONFIG) private readonly config: ContractorsConfig,
    private readonly repo: ContractorsRepository,
    private readonly service: ContractorsService,
    private readonly lookup: LookupService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((err: Error) => this.logger.warn(`enrichment pass failed: ${err.message}`))
        .finally(() => (this.running = null));
    }, this.config.ENRICH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Runs `pass` after the contractors' own, in every pass the provider answers to the end. */
  addPass(pass: () => Promise<boolean>): void {
    this.passes.push(pass);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /**
   * One pass over due look-ups. Public for tests. The first one the provider cannot answer (down,
   * rate limited, quota used up) ends the pass: it is counted and backed off, and the rest wait
   * for the next pass. Before, a 429 was followed by up to 99 more calls in the same pass.
   *
   * Each table's due rows are claimed first (leased for {@link LOOKUP_LEASE_MS}), so replicas
   * running their passes at the same moment share the rows out instead of each asking DaData for
   * all of them; those the pass did not get to are handed back. A row whose look-up fails with
   * an error that is not the provider's is logged, backed off ({@link LOOKUP_FAILURE_BACKOFF_MS})
   * and skipped: before, it threw out of the pass every time, first in line, and nothing after it
   * (bank accounts, organisations) was looked up again.
   */
  async tick(): Promise<void> {
    if (!this.lookup.client.configured) return;
    const contractors = await this.repo.claimDueContractorsAllAccounts(BATCH, LOOKUP_LEASE_MS);
    const contractorsDone = await this.each('contractor', contractors, async (c) => {
      const outcome = await this.service.tryLookup(() => this.lookup.party(c.inn!));
      await this.service.completeContractorLookup(c.accountId, c.id, outcome, ContractorsRepository.nextAttempts(c.lookupStatus, outcome.status, c.lookupAttempts));
      return outcome.status;
    });
    if (!contractorsDone) return;
    const banks = await this.repo.claimDueBankAccountsAllAccounts(BATCH, LOOKUP_LEASE_MS);
    const banksDone = await this.each('bank_account', banks, async (b) => {
      const outcome = await this.service.tryLookup(() => this.lookup.bank(b.bik));
      await this.service.completeBankLookup(b.accountId, b.contractorId, b.id, outcome, ContractorsRepository.nextAttempts(b.lookupStatus, outcome.status, b.lookupAttempts));
      return outcome.status;
    });
    if (!banksDone) return;
    for (const pass of this.passes) if (!(await pass())) return;
  }

  /** Looks the claimed rows up in order; false (the rest handed back) at the first the provider could not answer. */
  private async each<T extends ClaimedLookup>(kind: 'contractor' | 'bank_account', rows: T[], lookUp: (row: T) => Promise<LookupStatus>): Promise<boolean> {
    for (const [i, row] of rows.entries()) {
      let status: LookupStatus;
      try {
        status = await lookUp(row);
      } catch (err) {
        this.logger.error(`${kind} ${row.id} look-up failed, retried in ${LOOKUP_FAILURE_BACKOFF_MS / 60_000} min: ${(err as Error).message}`);
        // Should this fail as well (database down), the lease still keeps the row back a while.
        await this.repo.backOffLookup(kind, row.id, LOOKUP_FAILURE_BACKOFF_MS).catch((e: Error) => this.logger.warn(`${kind} ${row.id} not backed off: ${e.message}`));
        continue;
      }
      if (status === 'pending') {
        await this.repo.releaseClaims(kind, rows.slice(i + 1));
        return false;
      }
    }
    return true;
  }
}
