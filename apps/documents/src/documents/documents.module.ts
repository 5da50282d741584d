import { Module } from '@nestjs/common';
import { ReplicasModule } from '../replicas/replicas.module';
import { TemplatesModule } from '../templates/templates.module';
import { UploadsModule } from '../uploads/uploads.module';
import { ConstructorInputRepository } from './constructor-input.repository';
import { DocumentsController } from './documents.controller';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
import { OrphanFiles } from './orphan-files';
import { RenderHandoff } from './render-handoff';

/** The constructor, the documents list, status changes, deletes and downloads. The renderer writes documents through the repository. */
@Module({
  imports: [ReplicasModule, TemplatesModule, UploadsModule],
  controllers: [DocumentsController],
  providers: [ConstructorInputRepository, DocumentsRepository, DocumentsService, OrphanFiles, RenderHandoff],
  exports: [DocumentsRepository, RenderHandoff],
})
export class DocumentsModule {}
