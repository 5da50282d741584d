import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { Upload } from './upload.entity';

/** Every uploads query; each filters by account. */
@Injectable()
export class UploadsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The stored row, with its creation time. */
  insert(m: EntityManager, accountId: string, row: Omit<Upload, 'accountId' | 'createdAt'>): Promise<Upload> {
    return m.save(Upload, m.create(Upload, { ...row, accountId }));
  }

  /** By its public name, unique per account. */
  findByFilename(accountId: string, filename: string, m: EntityManager = this.ds.manager): Promise<Upload | null> {
    return m.findOneBy(Upload, { accountId, filename });
  }
}

/** An upload's columns as a read that joins it beside other rows selects them (alias `u`). */
export const UPLOAD_JOIN_COLUMNS = `u.id AS u_id, u.filename AS u_filename, u.original_name AS u_original_name, u.kind AS u_kind,
       u.content_type AS u_content_type, u.size AS u_size, u.storage_key AS u_storage_key, u.created_at AS u_created_at`;

export interface UploadJoinRow {
  u_id: string | null;
  u_filename: string | null;
  u_original_name: string | null;
  u_kind: Upload['kind'] | null;
  u_content_type: string | null;
  u_size: string | null;
  u_storage_key: string | null;
  u_created_at: Date | null;
}

/** The upload of a joined read (null: none matched). */
export const uploadFromJoin = (accountId: string, r: UploadJoinRow): Upload | null =>
  r.u_id !== null
    ? {
        id: r.u_id,
        accountId,
        filename: r.u_filename!,
        originalName: r.u_original_name!,
        kind: r.u_kind!,
        contentType: r.u_content_type!,
        size: Number(r.u_size),
        storageKey: r.u_storage_key!,
        createdAt: r.u_created_at!,
      }
    : null;
