import { Module, type DynamicModule } from '@nestjs/common';
import { Topics } from '@papka/contracts';
import { messagingEntities } from '@papka/messaging';
import { dataServiceHealthController, dataServiceImports } from '@papka/platform';
import { CONFIG, type ContractorsConfig } from './config';
import { BankAccount, Contact, Contractor } from './contractors/contractor.entity';
import { ContractorsModule } from './contractors/contractors.module';
import { LookupCacheEntry } from './lookup/lookup-cache.entity';
import { Organization } from './organization/organization.entity';
import { OrganizationModule } from './organization/organization.module';
import { migrations } from './migrations';

export const entities = [Contractor, BankAccount, Contact, LookupCacheEntry, Organization, ...messagingEntities];

@Module({})
export class AppModule {
  static register(config: ContractorsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...dataServiceImports(config, { service: 'contractors', entities, migrations, topics: [Topics.contractors] }),
        ContractorsModule,
        OrganizationModule,
      ],
      controllers: [dataServiceHealthController()],
      providers: [{ provide: CONFIG, useValue: config }],
      exports: [CONFIG],
      global: true,
    };
  }
}
