import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Window } from '@papka/contracts';
import { Template } from './template.entity';

/** Every query on the account's own templates (built-in ones are not rows); each filters by account. */
@Injectable()
export class TemplatesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The window `w` of the account's templates, newest first (`id` breaks ties, so pages are stable). */
  list(accountId: string, w: Window): Promise<Template[]> {
    if (w.take <= 0) return Promise.resolve([]);
    return this.ds.manager.find(Template, { where: { accountId }, order: { createdAt: 'DESC', id: 'DESC' }, take: w.take, skip: w.skip });
  }

  /**
   * Locks the account's template until the command's transaction ends (false: no such template).
   * The constructor's insert and a render asked again hold it FOR KEY SHARE while they make a
   * document pending on it, so a delete waits for them and then sees their documents.
   */
  async lock(m: EntityManager, accountId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await m.query(`SELECT 1 FROM template WHERE account_id = $1 AND id = $2 FOR UPDATE`, [accountId, id]);
    return rows.length > 0;
  }

  /** How many of the account's documents made from template `id` are still `pending` (their render needs it). */
  async pendingDocuments(m: EntityManager, accountId: string, id: string): Promise<number> {
    const [row]: { n: string }[] = await m.query(
      `SELECT count(*) AS n FROM document WHERE account_id = $1 AND template_id = $2 AND render_state = 'pending'`,
      [accountId, id],
    );
    return Number(row?.n ?? 0);
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
