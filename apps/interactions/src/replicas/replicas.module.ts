import { Module } from '@nestjs/common';
import { ReplicasEvents } from './replicas.events';
import { ReplicasRepository } from './replicas.repository';

@Module({
  controllers: [ReplicasEvents],
  providers: [ReplicasRepository],
  exports: [ReplicasRepository],
})
export class ReplicasModule {}
