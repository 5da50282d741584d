import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { Template } from './template.entity';

/** Every query on the account's own templates (built-in ones are not rows); each filters by account. */
@Injectable()
export class TemplatesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Newest first, at most 500. */
  list(accountId: string): Promise<Template[]> {
    return this.ds.manager.find(Template, { where: { accountId }, order: { createdAt: 'DESC' }, take: 500 });
  }

  async insert(m: EntityManager, accountId: string, row: Omit<Template, 'accountId' | 'createdAt'>): Promise<void> {
    await m.insert(Template, { ...row, accountId });
  }

  /** False when the account has no such template. */
  async delete(m: EntityManager, accountId: string, id: string): Promise<boolean> {
    const res = await m.delete(Template, { id, accountId });
    return Boolean(res.affected);
  }
}
