import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { LookupCacheEntry } from './lookup-cache.entity';

/**
 * The look-up cache. Its rows are public registry data (a company by INN, a bank by BIK), the
 * same for every account, so it is the one repository whose methods take no account: nothing
 * in it belongs to a tenant.
 */
@Injectable()
export class LookupCacheRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  find(kind: LookupCacheEntry['kind'], query: string): Promise<LookupCacheEntry | null> {
    return this.ds.manager.findOneBy(LookupCacheEntry, { kind, query });
  }

  async put(kind: LookupCacheEntry['kind'], query: string, payload: object | null): Promise<void> {
    await this.ds.manager.upsert(LookupCacheEntry, { kind, query, payload, fetchedAt: new Date() }, ['kind', 'query']);
  }
}
