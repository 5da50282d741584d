import { Module, type DynamicModule } from '@nestjs/common';
import { Topics } from '@papka/contracts';
import { messagingEntities } from '@papka/messaging';
import { dataServiceHealthController, dataServiceImports, StorageModule } from '@papka/platform';
import { BillingModule } from './billing/billing.module';
import { CONFIG, type FinanceSyncConfig } from './config';
import { ConnectionsModule } from './connections/connections.module';
import { EngineModule } from './engine/engine.module';
import { migrations } from './migrations';
import { ReconciliationModule } from './reconciliation/reconciliation.module';
import { RecordsModule } from './records/records.module';
import { ReplicasModule } from './replicas/replicas.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** Tables are written with SQL (see the migration); only the messaging tables have entities. */
export const entities = [...messagingEntities];

@Module({})
export class AppModule {
  static register(config: FinanceSyncConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ...dataServiceImports(config, { service: 'finance-sync', entities, migrations, topics: [Topics.finance] }),
        // The DMS connector streams rendered PDFs from the documents bucket (engine/file-source.ts).
        StorageModule.register(config),
        ReplicasModule,
        ConnectionsModule,
        EngineModule,
        RecordsModule,
        WebhooksModule,
        ReconciliationModule,
        BillingModule,
      ],
      controllers: [dataServiceHealthController()],
      providers: [{ provide: CONFIG, useValue: config }],
      exports: [CONFIG],
    };
  }
}
