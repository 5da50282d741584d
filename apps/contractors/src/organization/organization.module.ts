import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ContractorEnrichmentWorker } from '../contractors/contractor-enrichment.worker';
import { ContractorsModule } from '../contractors/contractors.module';
import { LookupModule } from '../lookup/lookup.module';
import { OrganizationController } from './organization.controller';
import { Organization } from './organization.entity';
import { OrganizationRepository } from './organization.repository';
import { OrganizationService } from './organization.service';

@Module({
  imports: [TypeOrmModule.forFeature([Organization]), LookupModule, ContractorsModule],
  controllers: [OrganizationController],
  providers: [OrganizationRepository, OrganizationService],
})
export class OrganizationModule implements OnModuleInit {
  constructor(
    private readonly worker: ContractorEnrichmentWorker,
    private readonly organization: OrganizationService,
  ) {}

  /** The organisation's deferred look-ups ride on the contractors' enrichment worker. */
  onModuleInit(): void {
    this.worker.addPass(() => this.organization.retryDueLookups());
  }
}
