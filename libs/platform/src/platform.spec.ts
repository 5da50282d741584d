import { BadRequestException, type ValidationError } from '@nestjs/common';
import { z } from 'zod';
import { plainToInstance } from 'class-transformer';
import { IsNumber, IsString, Max, validate } from 'class-validator';
import { ConfigError, loadConfig } from './config';
import { AppError, NotFoundError } from './errors';
import { toErrorResponse } from './http-error.filter';
import { flattenValidationErrors } from './validation';

describe(loadConfig.name, () => {
  const schema = z.object({ PORT: z.coerce.number().int(), DATABASE_URL: z.string().url(), NAME: z.string().default('x') });

  it('reports every bad variable at once, by name', () => {
    try {
      loadConfig(schema, { PORT: 'abc', DATABASE_URL: 'nope' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'DATABASE_URL']);
    }
  });

  it('treats empty strings as unset, so defaults apply', () => {
    expect(loadConfig(schema, { PORT: '1', DATABASE_URL: 'postgres://h/db', NAME: '' }).NAME).toBe('x');
  });
});

describe(flattenValidationErrors.name, () => {
  it('names nested fields with dotted paths', () => {
    const errors = [
      { property: 'inn', constraints: { isInn: 'inn bad' }, children: [] },
      { property: 'bank', children: [{ property: '0', children: [{ property: 'bik', constraints: { isBik: 'bik bad' } }] }] },
    ] as unknown as ValidationError[];
    expect(flattenValidationErrors(errors)).toEqual({ inn: ['inn bad'], 'bank.0.bik': ['bik bad'] });
  });

  it('says a required field left out is required, not what its validators would say of a value', async () => {
    class Payment {
      @IsNumber({}, { message: 'sum must be a number' }) @Max(1e12, { message: 'sum must not be greater than 1000000000000' })
      sum!: number;
      @IsString({ message: 'name must be a string' })
      name!: string;
    }
    const errors = await validate(plainToInstance(Payment, { name: 42 }));
    expect(flattenValidationErrors(errors)).toEqual({ sum: ['sum is required'], name: ['name must be a string'] });
  });
});

describe(toErrorResponse.name, () => {
  it('keeps an AppError status, code and headers', () => {
    const r = toErrorResponse(new AppError(429, 'RATE_LIMITED', 'slow down', undefined, { 'Retry-After': '3' }));
    expect(r).toEqual({ status: 429, body: { status: 'ERROR', code: 'RATE_LIMITED', message: 'slow down' }, headers: { 'Retry-After': '3' } });
  });

  it('maps a not-found to 404', () => {
    expect(toErrorResponse(new NotFoundError('contractor')).status).toBe(404);
  });

  it('maps body-parser errors to 413 and 400', () => {
    expect(toErrorResponse({ type: 'entity.too.large' }).status).toBe(413);
    expect(toErrorResponse({ type: 'entity.parse.failed' }).body.code).toBe('MALFORMED_JSON');
  });

  it('maps an unreachable database to 503 with Retry-After', () => {
    const r = toErrorResponse(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    expect(r.status).toBe(503);
    expect(r.headers).toEqual({ 'Retry-After': '5' });
  });

  it('keeps Nest HTTP exceptions in our shape', () => {
    expect(toErrorResponse(new BadRequestException('bad')).body).toEqual({ status: 'ERROR', code: 'BAD_REQUEST', message: 'bad' });
  });

  it('hides unknown errors behind a generic 500', () => {
    expect(toErrorResponse(new Error('secret detail')).body).toEqual({ status: 'ERROR', code: 'INTERNAL', message: 'Internal error' });
  });
});
