import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A file uploaded with /v2/docs/upload; its bytes live in the `uploads` bucket. */
@Entity({ name: 'upload' })
export class Upload {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 64 })
  accountId!: string;

  /** The public name (`50fc45c8.pdf`), unique per account. */
  @Column('varchar', { length: 100 })
  filename!: string;

  @Column('text')
  originalName!: string;

  @Column('varchar', { length: 16 })
  kind!: 'html' | 'docx' | 'xlsx' | 'pdf' | 'png' | 'jpeg';

  @Column('text')
  contentType!: string;

  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  size!: number;

  @Column('text')
  storageKey!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
