import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { VatRateValue } from '@papka/contracts';
import type { LookupStatus } from '../contractors/contractor.entity';

/** The account's own organisation (one per account): the seller on its invoices. */
@Entity({ name: 'organization' })
export class Organization {
  @PrimaryColumn('varchar', { length: 64 })
  accountId!: string;

  @Column('varchar', { length: 12 })
  inn!: string;

  @Column('varchar', { length: 9, nullable: true })
  kpp!: string | null;

  @Column('varchar', { length: 15, nullable: true })
  ogrn!: string | null;

  @Column('text')
  name!: string;

  @Column('text', { nullable: true })
  address!: string | null;

  @Column('text', { nullable: true })
  director!: string | null;

  @Column('text', { nullable: true })
  directorPost!: string | null;

  /** Its documents' VAT when they name none (null: the base rate of the document's date). */
  @Column('varchar', { length: 4, nullable: true })
  vatRate!: VatRateValue | null;

  /** [{ id, bik, number, name, fullInfo }], in the order given; the first goes on invoices. */
  @Column('jsonb', { default: () => "'[]'::jsonb" })
  bankAccounts!: object[];

  @Column('jsonb', { nullable: true })
  fullInfo!: object | null;

  /** 'pending' while the party or a bank account still waits for its look-up (provider down at the PUT). */
  @Column('varchar', { length: 16, default: 'ok' })
  lookupStatus!: LookupStatus;

  @Column('int', { default: 0 })
  lookupAttempts!: number;

  @Column('timestamptz', { nullable: true })
  lookupNextAt!: Date | null;

  /** When the PUT that saved this row was received (null: saved before this was kept). */
  @Column('timestamptz', { nullable: true })
  receivedAt!: Date | null;

  /**
   * When a user would last have seen a change (set by the service with each change it
   * announces). Not an UpdateDateColumn: TypeORM set that on every write, so a retry that
   * looked up nothing moved it, with no event.
   */
  @Column('timestamptz', { default: () => 'now()' })
  updatedAt!: Date;
}
