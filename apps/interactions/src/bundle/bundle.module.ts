import { Module } from '@nestjs/common';
import { BundleController } from './bundle.controller';
import { BundleRepository } from './bundle.repository';
import { BundleService } from './bundle.service';

@Module({
  controllers: [BundleController],
  providers: [BundleRepository, BundleService],
})
export class BundleModule {}
