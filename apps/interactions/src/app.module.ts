import { Module, type DynamicModule } from '@nestjs/common';
import { Topics } from '@papka/contracts';
import { messagingEntities } from '@papka/messaging';
import { dataServiceHealthController, dataServiceImports, StorageHealthIndicator, StorageModule } from '@papka/platform';
import { AttachmentsModule } from './attachments/attachments.module';
import { BundleModule } from './bundle/bundle.module';
import { CONFIG, type InteractionsConfig } from './config';
import { InteractionsModule } from './interactions/interactions.module';
import { migrations } from './migrations';
import { PaymentsModule } from './payments/payments.module';
import { ReplicasModule } from './replicas/replicas.module';

/** Tables are written with SQL (see the migration); only the messaging tables have entities. */
export const entities = [...messagingEntities];

@Module({})
export class AppModule {
  static register(config: InteractionsConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ...dataServiceImports(config, { service: 'interactions', entities, migrations, topics: [Topics.interactions] }),
        StorageModule.register(config),
        InteractionsModule,
        PaymentsModule,
        AttachmentsModule,
        BundleModule,
        ReplicasModule,
      ],
      controllers: [dataServiceHealthController(StorageHealthIndicator)],
      providers: [{ provide: CONFIG, useValue: config }],
      exports: [CONFIG],
    };
  }
}
