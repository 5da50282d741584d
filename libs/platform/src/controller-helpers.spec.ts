import { Readable } from 'node:stream';
import { Body, Controller, Get, Module, Param, Post, Res, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Response } from 'express';
import request from 'supertest';
import { sendFile, uuidParam, type SendableFile } from './controller-helpers';
import { IdempotencyKeyReusedError } from './errors';
import { HttpErrorFilter } from './http-error.filter';
import { IdempotencyKey, IdempotentCreate, IdempotentReplayInterceptor, type Created } from './idempotency';
import { validationPipe } from './validation';

const UUID = '7d3c1f7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const file = (body: string, contentType: string): SendableFile => ({ stream: Readable.from([Buffer.from(body)]), contentType, size: Buffer.byteLength(body) });

/** What the create handlers saw, so a test can tell whether they ran. */
const seen: (string | undefined)[] = [];

@Controller()
class ProbeController {
  @Get('things/:id/payments/:paymentId')
  get(@Param('id', uuidParam('id')) id: string, @Param('paymentId', uuidParam('paymentId')) paymentId: string) {
    return { id, paymentId };
  }

  @Post('things')
  @IdempotentCreate()
  create(@Body() _body: unknown, @IdempotencyKey() key: string | undefined): Created {
    seen.push(key);
    if (key === 'reused') throw new IdempotencyKeyReusedError();
    return { uuid: UUID, replayed: key === 'seen-before' };
  }

  @Get('files/:kind')
  async download(@Param('kind') kind: string, @Res() res: Response) {
    if (kind === 'invoice') await sendFile(res, file('%PDF-1.7', 'application/pdf'), 'Счёт № 15 от 05.06.2026.pdf');
    else await sendFile(res, file('bytes', ''), 'blank.xlsx');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

let app: INestApplication;

beforeAll(async () => {
  app = await NestFactory.create(ProbeModule, { logger: false });
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  await app.init();
});

afterAll(() => app.close());

beforeEach(() => {
  seen.length = 0;
});

describe(uuidParam.name, () => {
  it('passes a UUID through', async () => {
    const res = await request(app.getHttpServer()).get(`/things/${UUID}/payments/${UUID}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: UUID, paymentId: UUID });
  });

  it('takes a UUID written in capitals in lower case, the form rows and events carry', async () => {
    const res = await request(app.getHttpServer()).get(`/things/${UUID.toUpperCase()}/payments/${UUID.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: UUID.toLowerCase(), paymentId: UUID.toLowerCase() });
  });

  it.each([
    ['id', `/things/nope/payments/${UUID}`],
    ['paymentId', `/things/${UUID}/payments/42`],
  ])('answers 400 naming %s when it is not a UUID', async (name, path) => {
    const res = await request(app.getHttpServer()).get(path);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ status: 'ERROR', code: 'VALIDATION_FAILED', message: `${name} must be a UUID`, errors: { [name]: [`${name} must be a UUID`] } });
  });
});

describe(IdempotentReplayInterceptor.name, () => {
  const create = (key?: string) => {
    const req = request(app.getHttpServer()).post('/things').send({});
    return key === undefined ? req : req.set('Idempotency-Key', key);
  };

  it('answers the first create with the uuid and no replay header', async () => {
    const res = await create('first-time');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ status: 'OK', uuid: UUID });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(seen).toEqual(['first-time']);
  });

  it('marks a replay with Idempotent-Replayed: true', async () => {
    const res = await create('seen-before');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ status: 'OK', uuid: UUID });
    expect(res.headers['idempotent-replayed']).toBe('true');
  });

  it('passes the create an absent header as undefined', async () => {
    expect((await create()).status).toBe(201);
    expect(seen).toEqual([undefined]);
  });

  it('lets the 422 of a key reused with another request through', async () => {
    const res = await create('reused');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  });

  it('documents the header in OpenAPI', () => {
    const doc = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    expect(doc.paths['/things']?.post?.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }));
  });
});

describe('IdempotencyKey', () => {
  it.each([['k'.repeat(201)], ['with space'], ['tab\there']])('answers 400 naming the header for %p, before the create runs', async (key) => {
    const res = await request(app.getHttpServer()).post('/things').set('Idempotency-Key', key).send({});
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: { 'Idempotency-Key': ['Idempotency-Key must be 1-200 visible ASCII characters'] } });
    expect(seen).toEqual([]);
  });
});

describe(sendFile.name, () => {
  it('streams the file with its type, length and an RFC 5987 name', async () => {
    const res = await request(app.getHttpServer()).get('/files/invoice').buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-length']).toBe('8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="???? ? 15 ?? 05.06.2026.pdf"; filename*=UTF-8''${encodeURIComponent('Счёт № 15 от 05.06.2026.pdf')}`,
    );
    expect(res.body.toString()).toBe('%PDF-1.7');
  });

  it('says application/octet-stream for a file of unknown type', async () => {
    const res = await request(app.getHttpServer()).get('/files/blank').buffer(true);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-disposition']).toBe('attachment; filename="blank.xlsx"');
  });
});
