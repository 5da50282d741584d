import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LookupCacheEntry } from './lookup-cache.entity';
import { LookupCacheRepository } from './lookup-cache.repository';
import { LookupController } from './lookup.controller';
import { LookupService } from './lookup.service';

@Module({
  imports: [TypeOrmModule.forFeature([LookupCacheEntry])],
  controllers: [LookupController],
  providers: [LookupCacheRepository, LookupService],
  exports: [LookupService],
})
export class LookupModule {}
