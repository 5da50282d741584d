import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Provider answers kept for DADATA_CACHE_TTL_SECONDS (public data: shared by all accounts). */
@Entity({ name: 'lookup_cache' })
export class LookupCacheEntry {
  @PrimaryColumn('varchar', { length: 16 })
  kind!: 'party' | 'bank';

  @PrimaryColumn('varchar', { length: 32 })
  query!: string;

  /** The suggestion, or null when the provider found nothing. */
  @Column('jsonb', { nullable: true })
  payload!: object | null;

  @Column('timestamptz')
  fetchedAt!: Date;
}
