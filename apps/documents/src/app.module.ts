import { Module, type DynamicModule } from '@nestjs/common';
import { Topics } from '@papka/contracts';
import { messagingEntities } from '@papka/messaging';
import { dataServiceHealthController, dataServiceImports, StorageHealthIndicator, StorageModule } from '@papka/platform';
import { CONFIG, type DocumentsConfig } from './config';
import { DocumentEntity } from './documents/document.entity';
import { DocumentsController } from './documents/documents.controller';
import { DocumentsRepository } from './documents/documents.repository';
import { DocumentsService } from './documents/documents.service';
import { migrations } from './migrations';
import { ReadyController } from './ready/ready.controller';
import { DocumentRendererService } from './render/document-renderer.service';
import { RenderPoolHost, RendererHealthIndicator } from './render/render-pool.provider';
import { RenderEvents } from './render/render.events';
import { ContractorReplica } from './replicas/contractor-replica.entity';
import { OrganizationReplica } from './replicas/organization-replica.entity';
import { ReplicasEvents } from './replicas/replicas.events';
import { Template } from './templates/template.entity';
import { TemplatesController } from './templates/templates.controller';
import { TemplatesService } from './templates/templates.service';
import { Upload } from './uploads/upload.entity';
import { UploadsController } from './uploads/uploads.controller';
import { UploadsService } from './uploads/uploads.service';

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
      ],
      controllers: [
        dataServiceHealthController(StorageHealthIndicator, RendererHealthIndicator),
        UploadsController,
        TemplatesController,
        DocumentsController,
        ReadyController,
        ReplicasEvents,
        RenderEvents,
      ],
      providers: [
        { provide: CONFIG, useValue: config },
        UploadsService,
        TemplatesService,
        DocumentsRepository,
        DocumentsService,
        RenderPoolHost,
        RendererHealthIndicator,
        DocumentRendererService,
      ],
      exports: [CONFIG],
    };
  }
}
