import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { DocumentStatus, RenderState } from '@papka/contracts';

const bigintNumber = { to: (v: number) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

@Entity({ name: 'document' })
export class DocumentEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 64 })
  accountId!: string;

  @Column('text')
  name!: string;

  @Column('varchar', { length: 100 })
  type!: string;

  @Column('smallint')
  status!: DocumentStatus;

  @Column('varchar', { length: 16 })
  renderState!: RenderState;

  @Column('text', { nullable: true })
  renderError!: string | null;

  /** Bumped on every (re)render request; a result for an older revision is dropped. */
  @Column('int', { default: 1 })
  revision!: number;

  /** Built-in or account template, or null when made straight from an upload. */
  @Column('uuid', { nullable: true })
  templateId!: string | null;

  /** The upload used as the template when no template row is involved. */
  @Column('varchar', { length: 100, nullable: true })
  sourceFilename!: string | null;

  @Column('uuid', { nullable: true })
  contractorId!: string | null;

  /** Name, INN and address at creation: shown if the contractor is gone from the replica. */
  @Column('jsonb', { nullable: true })
  contractorCopy!: { name: string; inn: string | null; address: string | null } | null;

  @Column('jsonb', { default: () => "'{}'::jsonb" })
  masks!: object;

  /** Kopecks. */
  @Column('bigint', { default: 0, transformer: bigintNumber })
  sum!: number;

  /** The produced file's public name, e.g. `50fc45c8.pdf`. */
  @Column('varchar', { length: 100, nullable: true })
  filename!: string | null;

  @Column('text', { nullable: true })
  contentType!: string | null;

  @Column('text', { nullable: true })
  storageKey!: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
