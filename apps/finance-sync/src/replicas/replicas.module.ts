import { Module } from '@nestjs/common';
import { SyncModule } from '../engine/sync.module';
import { ReplicasEvents } from './replicas.events';
import { ReplicasRepository } from './replicas.repository';

@Module({
  imports: [SyncModule],
  controllers: [ReplicasEvents],
  providers: [ReplicasRepository],
  exports: [ReplicasRepository],
})
export class ReplicasModule {}
