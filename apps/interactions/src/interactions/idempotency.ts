import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError, fieldError } from '@papka/platform';

/** What a create answered: replayed when the key had been seen. */
export interface Created {
  uuid: string;
  replayed: boolean;
}

const KEY = /^[\x21-\x7e]{1,200}$/;

/** The `Idempotency-Key` header, checked: 1-200 visible ASCII characters. */
export function idempotencyKey(header: string | string[] | undefined): string | undefined {
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || key === '') return undefined;
  if (!KEY.test(key)) throw fieldError('Idempotency-Key', 'Idempotency-Key must be 1-200 visible ASCII characters');
  return key;
}

/**
 * Creates with an `Idempotency-Key`: the key is claimed in the create's own transaction, so a
 * retried request (a timeout, a lost answer) gets the first answer back instead of a second
 * interaction or payment. The same key with another request is a 422. Keys are kept a day.
 */
@Injectable()
export class Idempotency implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(Idempotency.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async run(m: EntityManager, accountId: string, key: string | undefined, request: unknown, create: () => Promise<string>): Promise<Created> {
    if (key === undefined) return { uuid: await create(), replayed: false };
    const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    // A concurrent request with the same key waits here for the first one's transaction.
    const claimed: unknown[] = await m.query(
      `INSERT INTO idempotency_key (account_id, key, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key`,
      [accountId, key, fingerprint],
    );
    if (claimed.length === 0) {
      const [seen] = (await m.query(`SELECT fingerprint, result FROM idempotency_key WHERE account_id = $1 AND key = $2`, [accountId, key])) as {
        fingerprint: string;
        result: { uuid: string } | null;
      }[];
      if (!seen?.result || seen.fingerprint !== fingerprint) {
        throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different request');
      }
      return { uuid: seen.result.uuid, replayed: true };
    }
    const uuid = await create();
    await m.query(`UPDATE idempotency_key SET result = $3 WHERE account_id = $1 AND key = $2`, [accountId, key, JSON.stringify({ uuid })]);
    return { uuid, replayed: false };
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.expire(), 60 * 60 * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async expire(): Promise<void> {
    try {
      await this.ds.query(`DELETE FROM idempotency_key WHERE created_at < now() - interval '24 hours'`);
    } catch (err) {
      this.logger.warn(`could not expire idempotency keys: ${(err as Error).message}`);
    }
  }
}
