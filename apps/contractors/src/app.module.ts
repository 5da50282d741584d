import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule, DEV_JWT_SECRET } from '@papka/auth';
import { Topics } from '@papka/contracts';
import { MessagingModule, messagingEntities } from '@papka/messaging';
import { dataSourceOptions } from '@papka/persistence';
import { authConfig, loggerModule } from '@papka/platform';
import { CONFIG, type ContractorsConfig } from './config';
import { BankAccount } from './contractors/bank-account.entity';
import { Contact } from './contractors/contact.entity';
import { Contractor } from './contractors/contractor.entity';
import { ContractorsModule } from './contractors/contractors.module';
import { HealthController } from './health/health.controller';
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
        loggerModule(config.LOG_LEVEL, 'contractors'),
        TypeOrmModule.forRoot({
          ...dataSourceOptions({
            url: config.DATABASE_URL,
            entities,
            migrations,
            migrationsTableName: 'contractors_migrations',
            poolSize: config.DATABASE_POOL_SIZE,
            applicationName: 'papka-contractors',
          }),
          retryAttempts: 5,
          retryDelay: 2_000,
        }),
        MessagingModule.forRootAsync({
          useFactory: () => ({
            bus:
              config.EVENT_BUS === 'kafka'
                ? { kind: 'kafka', brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? 'papka-contractors' }
                : { kind: 'memory' },
            relay: { pollIntervalMs: config.OUTBOX_POLL_MS },
            topics: [Topics.contractors],
          }),
        }),
        AuthModule.forRootAsync({ useFactory: () => authConfig(config, DEV_JWT_SECRET) }),
        TerminusModule,
        ContractorsModule,
        OrganizationModule,
      ],
      controllers: [HealthController],
      providers: [{ provide: CONFIG, useValue: config }],
      exports: [CONFIG],
      global: true,
    };
  }
}
