import { Module, type DynamicModule } from '@nestjs/common';
import { Topics } from '@papka/contracts';
import { messagingEntities } from '@papka/messaging';
import { dataServiceHealthController, dataServiceImports, StorageHealthIndicator, StorageModule } from '@papka/platform';
import { CONFIG, type InteractionsConfig } from './config';
import { InteractionsController } from './interactions/interactions.controller';
import { InteractionsRepository } from './interactions/interactions.repository';
import { InteractionsService } from './interactions/interactions.service';
import { migrations } from './migrations';
import { ReplicasEvents } from './replicas/replicas.events';

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
      ],
      controllers: [dataServiceHealthController(StorageHealthIndicator), InteractionsController, ReplicasEvents],
      providers: [{ provide: CONFIG, useValue: config }, InteractionsRepository, InteractionsService],
      exports: [CONFIG],
    };
  }
}
