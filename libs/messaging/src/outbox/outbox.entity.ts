import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** Events waiting to be published, written in the same transaction as the state change. */
@Entity({ name: 'outbox' })
@Index('ix_outbox_unpublished', ['seq'], { where: 'published_at IS NULL' })
export class OutboxMessage {
  /** The event id. */
  @PrimaryColumn('uuid')
  id!: string;

  /** Publication order. */
  @Column({ type: 'bigint', generated: 'increment' })
  seq!: string;

  @Column('text')
  topic!: string;

  @Column('text')
  key!: string;

  @Column('text')
  eventType!: string;

  @Column('jsonb')
  payload!: Record<string, unknown>;

  @Column('jsonb', { default: () => "'{}'::jsonb" })
  headers!: Record<string, string>;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  @Column('int', { default: 0 })
  attempts!: number;

  @Column('text', { nullable: true })
  lastError!: string | null;

  /** Set when the broker refused the row for good; the relay skips it from then on. */
  @Column({ type: 'timestamptz', nullable: true })
  rejectedAt!: Date | null;
}
