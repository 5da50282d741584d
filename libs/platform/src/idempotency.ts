import {
  applyDecorators,
  createParamDecorator,
  Global,
  Injectable,
  Logger,
  Module,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { map, type Observable } from 'rxjs';
import type { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { fieldError, IdempotencyKeyReusedError } from './errors';
import { IdempotencyRepository } from './idempotency.repository';

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

/**
 * The create's `Idempotency-Key` header, checked as idempotencyKey() does (400 naming the
 * header when malformed); undefined when absent.
 */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  idempotencyKey(ctx.switchToHttp().getRequest<Request>().headers['idempotency-key']),
);

/** Answers a handler's Created as `{ status: "OK", uuid }`, with `Idempotent-Replayed: true` on a replay. */
@Injectable()
export class IdempotentReplayInterceptor implements NestInterceptor<Created, { status: 'OK'; uuid: string }> {
  intercept(ctx: ExecutionContext, next: CallHandler<Created>): Observable<{ status: 'OK'; uuid: string }> {
    const res = ctx.switchToHttp().getResponse<Response>();
    return next.handle().pipe(map((created) => answerCreated(res, created)));
  }
}

/**
 * For a create that takes `Idempotency-Key` (read it with @IdempotencyKey()): documents the
 * header and turns the Created its handler returns into the answer (IdempotentReplayInterceptor).
 */
export const IdempotentCreate = () => applyDecorators(ApiHeader(IDEMPOTENCY_HEADER), UseInterceptors(IdempotentReplayInterceptor));

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

/** The request with every object's keys in order: the same body sent with its fields in another order is the same request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
  );
}
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const fingerprintOf = (request: unknown): string => sha256(JSON.stringify(canonical(request)));
/**
 * The same request, as keys claimed before fingerprints were canonical hold it (its fields in the
 * order they came): a retry across that deploy, within a key's day, still replays.
 */
const sameRequest = (stored: string, request: unknown): boolean => stored === fingerprintOf(request) || stored === sha256(JSON.stringify(request));

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

  constructor(private readonly repo: IdempotencyRepository) {}

  async run(m: EntityManager, accountId: string, key: string | undefined, request: unknown, create: () => Promise<string>): Promise<Created> {
    if (key === undefined) return { uuid: await create(), replayed: false };
    const fingerprint = fingerprintOf(request);
    if (!(await this.repo.claim(m, accountId, key, fingerprint))) {
      const seen = await this.repo.find(m, accountId, key);
      if (!seen?.result || !sameRequest(seen.fingerprint, request)) {
        throw new IdempotencyKeyReusedError();
      }
      return { uuid: seen.result.uuid, replayed: true };
    }
    const uuid = await create();
    await this.repo.complete(m, accountId, key, uuid);
    return { uuid, replayed: false };
  }

  /**
   * The first answer to a create already made with `key` (the same request), before any of the
   * create's own checks: a retry then gets it back even when what the create checks has changed
   * since (the contractor deleted, the template gone). Null: not made yet (the create goes on,
   * and {@link run} claims the key). The same key with another request is a 422, as in run.
   */
  async replay(accountId: string, key: string | undefined, request: unknown): Promise<Created | null> {
    if (key === undefined) return null;
    const seen = await this.repo.find(undefined, accountId, key);
    if (!seen?.result) return null;
    if (!sameRequest(seen.fingerprint, request)) throw new IdempotencyKeyReusedError();
    return { uuid: seen.result.uuid, replayed: true };
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
      await this.repo.expireAllAccounts();
    } catch (err) {
      this.logger.warn(`could not expire idempotency keys: ${(err as Error).message}`);
    }
  }
}

/** Idempotency for every service (dataServiceImports); its table comes with IdempotencyKeys1763700000500. */
@Global()
@Module({ providers: [IdempotencyRepository, Idempotency], exports: [Idempotency] })
export class IdempotencyModule {}
