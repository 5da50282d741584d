import { Module, type DynamicModule } from '@nestjs/common';
import { Topics } from '@papka/contracts';
import { messagingEntities } from '@papka/messaging';
import { dataServiceHealthController, dataServiceImports, StorageHealthIndicator, StorageModule } from '@papka/platform';
import { CONFIG, type DocumentsConfig } from './config';
import { DocumentEntity } from './documents/document.entity';
import { DocumentsModule } from './documents/documents.module';
import { migrations } from './migrations';
import { ReadyModule } from './ready/ready.module';
import { RendererHealthIndicator } from './rendering/render-pool.provider';
import { RenderingModule } from './rendering/rendering.module';
import { ContractorReplica } from './replicas/contractor-replica.entity';
import { OrganizationReplica } from './replicas/organization-replica.entity';
import { ReplicasModule } from './replicas/replicas.module';
import { Template } from './templates/template.entity';
import { TemplatesModule } from './templates/templates.module';
import { Upload } from './uploads/upload.entity';
import { UploadsModule } from './uploads/uploads.module';

export const entities = [DocumentEntity, Template, Upload, ContractorReplica, OrganizationReplica, ...messagingEntities];

@Module({})
export class AppModule {
  static register(config: DocumentsConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ...dataServiceImports(config, { service: 'documents', entities, migrations, topics: [Topics.documents, Topics.renderRequests] }),
        StorageModule.register(config),
        UploadsModule,
        TemplatesModule,
        DocumentsModule,
        RenderingModule,
        ReplicasModule,
        ReadyModule,
      ],
      controllers: [dataServiceHealthController(StorageHealthIndicator, RendererHealthIndicator)],
      providers: [{ provide: CONFIG, useValue: config }],
      exports: [CONFIG],
    };
  }
}
