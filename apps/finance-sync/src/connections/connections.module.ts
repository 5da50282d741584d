import { Module } from '@nestjs/common';
import { CONFIG, type FinanceSyncConfig } from '../config';
import { fileSourceProvider } from '../engine/file-source';
import { SyncModule } from '../engine/sync.module';
import { ConnectorPool } from './connector-pool';
import { ConnectionsController } from './connections.controller';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';
import { TokenCipher } from './token-cipher';

@Module({
  imports: [SyncModule],
  controllers: [ConnectionsController],
  providers: [
    ConnectionsRepository,
    ConnectionsService,
    ConnectorPool,
    fileSourceProvider,
    { provide: TokenCipher, inject: [CONFIG], useFactory: (c: FinanceSyncConfig) => new TokenCipher(c.FINANCE_ENCRYPTION_KEY) },
  ],
  exports: [ConnectionsRepository, ConnectorPool],
})
export class ConnectionsModule {}
