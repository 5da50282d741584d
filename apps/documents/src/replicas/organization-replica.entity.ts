import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The account's organisation (seller), fed by organization.updated. */
@Entity({ name: 'organization_replica' })
export class OrganizationReplica {
  @PrimaryColumn('varchar', { length: 64 })
  accountId!: string;

  @Column('jsonb')
  snapshot!: object;

  /** Sequence of the event applied last (EventEnvelope.sequence). */
  @Column('bigint')
  version!: string;
}
