import { Module } from '@nestjs/common';
import { UploadsModule } from '../uploads/uploads.module';
import { TemplateFileCheck } from './template-file-check';
import { TemplatesController } from './templates.controller';
import { TemplatesRepository } from './templates.repository';
import { TemplatesService } from './templates.service';

/** Built-in and account templates: the constructor resolves them; the renderer reads their rows. */
@Module({
  imports: [UploadsModule],
  controllers: [TemplatesController],
  providers: [TemplatesRepository, TemplatesService, TemplateFileCheck],
  exports: [TemplatesService, TemplatesRepository, TemplateFileCheck],
})
export class TemplatesModule {}
