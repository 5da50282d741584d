import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Local copy of a contractor, fed by contractor events (never read from the contractors service). */
@Entity({ name: 'contractor_replica' })
export class ContractorReplica {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 64 })
  accountId!: string;

  @Column('text')
  name!: string;

  @Column('varchar', { length: 12, nullable: true })
  inn!: string | null;

  @Column('text', { nullable: true })
  address!: string | null;

  /** The full ContractorSnapshot (bank accounts for invoices). */
  @Column('jsonb')
  snapshot!: object;

  /** Deleted contractors stay, so documents keep the last known name. */
  @Column('boolean', { default: false })
  deleted!: boolean;

  /** Sequence of the event applied last (EventEnvelope.sequence): older events arriving late are ignored. */
  @Column('bigint')
  version!: string;
}
