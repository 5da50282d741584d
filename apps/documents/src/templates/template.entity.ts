import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { MaskDef } from '@papka/contracts';

/** A template an account made from an uploaded HTML or DOCX file. Built-in ones are not rows. */
@Entity({ name: 'template' })
export class Template {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('varchar', { length: 64 })
  accountId!: string;

  @Column('text')
  name!: string;

  /** The upload it was made from. */
  @Column('varchar', { length: 100 })
  filename!: string;

  @Column('varchar', { length: 8 })
  kind!: 'html' | 'docx';

  @Column('jsonb')
  masks!: MaskDef[];

  @Column('text')
  font!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
