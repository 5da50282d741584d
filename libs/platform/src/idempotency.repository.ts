import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/** The idempotency_key table (IdempotencyKeys1763700000500). Keys belong to an account. */
@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** True when this request claimed the key; a concurrent claim waits for the first one's transaction. */
  async claim(m: EntityManager, accountId: string, key: string, fingerprint: string): Promise<boolean> {
    const claimed: unknown[] = await m.query(
      `INSERT INTO idempotency_key (account_id, key, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key`,
      [accountId, key, fingerprint],
    );
    return claimed.length > 0;
  }

  /** `m` undefined: outside any transaction. */
  async find(m: EntityManager | undefined, accountId: string, key: string): Promise<{ fingerprint: string; result: { uuid: string } | null } | null> {
    const [seen] = (await (m ?? this.ds).query(`SELECT fingerprint, result FROM idempotency_key WHERE account_id = $1 AND key = $2`, [accountId, key])) as {
      fingerprint: string;
      result: { uuid: string } | null;
    }[];
    return seen ?? null;
  }

  async complete(m: EntityManager, accountId: string, key: string, uuid: string): Promise<void> {
    await m.query(`UPDATE idempotency_key SET result = $3 WHERE account_id = $1 AND key = $2`, [accountId, key, JSON.stringify({ uuid })]);
  }

  /** Keys older than a day, of every account. */
  async expireAllAccounts(): Promise<void> {
    await this.ds.query(`DELETE FROM idempotency_key WHERE created_at < now() - interval '24 hours'`);
  }
}
