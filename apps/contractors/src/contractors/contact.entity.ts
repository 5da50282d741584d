import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Contractor } from './contractor.entity';

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
