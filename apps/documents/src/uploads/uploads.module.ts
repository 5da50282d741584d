import { Module } from '@nestjs/common';
import { UploadsController } from './uploads.controller';
import { UploadsRepository } from './uploads.repository';
import { UploadsService } from './uploads.service';

/** Uploaded files: the templates and the constructor find and read them; the renderer reads their rows. */
@Module({
  controllers: [UploadsController],
  providers: [UploadsRepository, UploadsService],
  exports: [UploadsService, UploadsRepository],
})
export class UploadsModule {}
