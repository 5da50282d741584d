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
