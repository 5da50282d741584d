import { Global, Injectable, Logger, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import type { DataSource, EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { AppError, fieldError } from './errors';

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

/** For `@ApiHeader()` on every create that takes the header. */
export const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description: 'Retrying with the same key returns the first answer (and `Idempotent-Replayed: true`) instead of creating again',
};

/** `{ status: "OK", uuid }`, marked when it repeats an earlier answer to the same Idempotency-Key. */
export function answerCreated(res: Response, created: Created): { status: 'OK'; uuid: string } {
  if (created.replayed) res.setHeader('Idempotent-Replayed', 'true');
  return { status: 'OK', uuid: created.uuid };
}

/** The table behind Idempotency; every service that takes the header lists this migration (last). */
export class IdempotencyKeys1763700000500 implements MigrationInterface {
  name = 'IdempotencyKeys1763700000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_key (
        account_id varchar(64) NOT NULL,
        key varchar(200) NOT NULL,
        fingerprint char(64) NOT NULL,
        result jsonb NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_idempotency_key PRIMARY KEY (account_id, key)
      )`);
    await q.query(`CREATE INDEX ix_idempotency_key_created ON idempotency_key (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_key');
  }
}

/**
 * Creates with an `Idempotency-Key`: the key is claimed in the create's own transaction, so a
 * retried request (a timeout, a lost answer) gets the first answer back instead of a second
 * contractor, document, interaction or payment. The same key with another request is a 422;
 * a request that fails leaves its key unused. Keys are kept a day.
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

/** Idempotency for every service (dataServiceImports); its table comes with IdempotencyKeys1763700000500. */
@Global()
@Module({ providers: [Idempotency], exports: [Idempotency] })
export class IdempotencyModule {}
