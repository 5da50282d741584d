import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { FinanceTarget } from '@papka/contracts';
import { CONFIG, type FinanceSyncConfig } from '../config';
import { definitionOf, type Connector, type FileSource, type Settings } from '../connectors';
import { FILE_SOURCE } from '../engine/file-source';
import type { ConnectionRow } from './connections.repository';
import { TokenCipher } from './token-cipher';

/** The first 8 hex digits of the connection id: in `importedId` (`papka:<conn8>:<uuid>`). */
export const connectionTag = (connectionId: string): string => connectionId.replace(/-/g, '').slice(0, 8);

/**
 * One connector per connection, built with its decrypted token, kept while the connection
 * row is unchanged (a new PUT changes `updatedAt`, so the next use builds it afresh).
 */
@Injectable()
export class ConnectorPool implements OnModuleDestroy {
  private readonly pool = new Map<string, { version: number; connector: Connector }>();

  constructor(
    @Inject(CONFIG) private readonly config: FinanceSyncConfig,
    private readonly cipher: TokenCipher,
    @Inject(FILE_SOURCE) private readonly files: FileSource,
  ) {}

  for(c: ConnectionRow): Connector {
    const version = c.updatedAt.getTime();
    const cached = this.pool.get(c.id);
    if (cached && cached.version === version) return cached.connector;
    if (cached) void cached.connector.close().catch(() => undefined);
    if (!c.tokenCipher) throw new Error(`connection ${c.id} has no token`);
    const connector = this.build(c.target, c.id, this.cipher.decrypt(c.tokenCipher, c.id), c.settings);
    this.pool.set(c.id, { version, connector });
    return connector;
  }

  /** A connector for a token not stored yet (the check before a PUT stores anything); the caller closes it. */
  build(target: FinanceTarget, connectionId: string, token: string, settings: Settings): Connector {
    return definitionOf(target).create({
      urls: { adesk: this.config.ADESK_API_URL, moysklad: this.config.MOYSKLAD_API_URL },
      allowedHosts: this.config.FINANCE_ALLOWED_HOSTS,
      maxFileBytes: this.config.FINANCE_DMS_MAX_FILE_BYTES,
      files: this.files,
      token,
      settings,
      connectionTag: connectionTag(connectionId),
      connectionId,
      timeoutMs: this.config.FINANCE_HTTP_TIMEOUT_MS,
      batchSize: this.config.FINANCE_BATCH_SIZE,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.pool.values()].map((p) => p.connector.close()));
    this.pool.clear();
  }
}
