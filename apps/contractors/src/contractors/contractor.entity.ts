import { Column, CreateDateColumn, Entity, OneToMany, PrimaryColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { ContractorType } from '@papka/contracts';
import { BankAccount } from './bank-account.entity';
import { Contact } from './contact.entity';

/** Where the looked-up details (`fullInfo`) stand. */
export type LookupStatus = 'none' | 'pending' | 'ok' | 'not_found';

@Entity({ name: 'contractor' })
export class Contractor {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 64 })
  accountId!: string;

  @Column('smallint')
  type!: ContractorType;

  @Column('text')
  name!: string;

  @Column('varchar', { length: 12, nullable: true })
  inn!: string | null;

  @Column('text', { nullable: true })
  address!: string | null;

  @Column('jsonb', { nullable: true })
  fullInfo!: object | null;

  @Column('varchar', { length: 16, default: 'none' })
  lookupStatus!: LookupStatus;

  @Column('int', { default: 0 })
  lookupAttempts!: number;

  @Column('timestamptz', { nullable: true })
  lookupNextAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;

  @OneToMany(() => BankAccount, (b) => b.contractor)
  bankAccounts?: Relation<BankAccount[]>;

  @OneToMany(() => Contact, (c) => c.contractor)
  contacts?: Relation<Contact[]>;
}
