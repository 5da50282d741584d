import { Module } from '@nestjs/common';
import { SyncRepository } from './sync.repository';

/** The engine's tables, shared by the features that queue work (replicas, connections, webhooks). */
@Module({ providers: [SyncRepository], exports: [SyncRepository] })
export class SyncModule {}
