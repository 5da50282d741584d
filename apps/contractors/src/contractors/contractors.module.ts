import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LookupModule } from '../lookup/lookup.module';
import { ContractorEnrichmentWorker } from './contractor-enrichment.worker';
import { BankAccount, Contact, Contractor } from './contractor.entity';
import { ContractorsController } from './contractors.controller';
import { ContractorsRepository } from './contractors.repository';
import { ContractorsService } from './contractors.service';

@Module({
  imports: [TypeOrmModule.forFeature([Contractor, BankAccount, Contact]), LookupModule],
  controllers: [ContractorsController],
  providers: [ContractorsRepository, ContractorsService, ContractorEnrichmentWorker],
  exports: [ContractorsService, ContractorEnrichmentWorker],
})
export class ContractorsModule {}
