import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type ContractorsConfig } from '../config';
import { LookupService } from '../lookup/lookup.service';
import { ContractorsRepository } from './contractors.repository';
import { ContractorsService } from './contractors.service';

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
   */
  async tick(): Promise<void> {
    if (!this.lookup.client.configured) return;
    const due = await this.repo.dueLookupsAllAccounts(50);
    for (const c of due.contractors) {
      const outcome = await this.service.tryLookup(() => this.lookup.party(c.inn!));
      await this.service.completeContractorLookup(c.accountId, c.id, outcome, ContractorsRepository.nextAttempts(c.lookupStatus, outcome.status, c.lookupAttempts));
      if (outcome.status === 'pending') return;
    }
    for (const b of due.banks) {
      const outcome = await this.service.tryLookup(() => this.lookup.bank(b.bik));
      await this.service.completeBankLookup(b.accountId, b.contractorId, b.id, outcome, ContractorsRepository.nextAttempts(b.lookupStatus, outcome.status, b.lookupAttempts));
      if (outcome.status === 'pending') return;
    }
    for (const pass of this.passes) if (!(await pass())) return;
  }
}
