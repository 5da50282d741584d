import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Ids of events a consumer group has handled; written in the same transaction as the effect. */
@Entity({ name: 'inbox' })
export class InboxMessage {
  @PrimaryColumn('text')
  consumerGroup!: string;

  @PrimaryColumn('uuid')
  eventId!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  handledAt!: Date;
}
