import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ReplicasModule } from '../replicas/replicas.module';
import { SyncModule } from './sync.module';
import { SyncWorker } from './sync.worker';

@Module({
  imports: [SyncModule, ConnectionsModule, ReplicasModule],
  providers: [SyncWorker],
})
export class EngineModule {}
