import { Module } from '@nestjs/common';
import { ReplicasEvents } from './replicas.events';
import { ReplicasRepository } from './replicas.repository';

/** The contractor and organisation read models, fed by papka.contractors.v1. */
@Module({
  controllers: [ReplicasEvents],
  providers: [ReplicasRepository],
  exports: [ReplicasRepository],
})
export class ReplicasModule {}
