import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { ContractorType } from '@papka/contracts';

// The contractor aggregate: the contractor and the bank accounts and contacts it owns, in one
// file because their relations refer to each other (three files made an import cycle).

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

@Entity({ name: 'bank_account' })
export class BankAccount {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  contractorId!: string;

  @Column('varchar', { length: 64 })
  accountId!: string;

  @Column('varchar', { length: 9 })
  bik!: string;

  @Column('varchar', { length: 20 })
  number!: string;

  @Column('text')
  name!: string;

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

  @ManyToOne(() => Contractor, (c) => c.bankAccounts, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'contractor_id' })
  contractor?: Relation<Contractor>;
}

@Entity({ name: 'contact' })
export class Contact {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid')
  contractorId!: string;

  @Column('varchar', { length: 64 })
  accountId!: string;

  @Column('text')
  fio!: string;

  @Column('text', { nullable: true })
  phone!: string | null;

  @Column('text', { nullable: true })
  post!: string | null;

  @Column('text', { nullable: true })
  email!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @ManyToOne(() => Contractor, (c) => c.contacts, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'contractor_id' })
  contractor?: Relation<Contractor>;
}
