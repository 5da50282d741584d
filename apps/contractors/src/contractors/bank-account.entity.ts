import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Contractor, type LookupStatus } from './contractor.entity';

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
