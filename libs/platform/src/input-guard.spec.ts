import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Body, Controller, Get, Module, Param, Patch, Post, Query, type INestApplication } from '@nestjs/common';
import { IsObject, IsOptional, IsString } from 'class-validator';
import request from 'supertest';
import { createHttpApp, loggerModule } from './http-app';
import { toErrorResponse } from './http-error.filter';
import { findInputProblem, MAX_INPUT_DEPTH } from './input-guard';

/** `{"a":{"a":...1}}`, `depth` objects deep, built as text. */
const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe(findInputProblem.name, () => {
  it('passes ordinary values', () => {
    expect(findInputProblem({ name: 'Ромашка', bank: [{ bik: '044525104' }], sum: 1, ok: true, none: null })).toBeUndefined();
    expect(findInputProblem(undefined)).toBeUndefined();
    expect(findInputProblem('plain')).toBeUndefined();
  });

  it('names the first string with a NUL character by its dotted path', () => {
    expect(findInputProblem({ name: 'a\u0000b' })).toEqual({ field: 'name', message: 'name must not contain the NUL character (\\u0000)' });
    expect(findInputProblem({ ok: 'x', masks: { lines: [{ title: 'ok' }, { title: '\u0000' }] } })?.field).toBe('masks.lines.1.title');
    expect(findInputProblem({ masks: { ['k\u0000']: 1 } })?.field).toBe('masks.k\\u0000');
    expect(findInputProblem({ a: 'x\u0000', b: 'y\u0000' })?.field).toBe('a');
  });

  it('names a value taken by name, or the whole value by its kind', () => {
    expect(findInputProblem({ body: '\u0000' }, { name: 'masks' })?.field).toBe('masks.body');
    expect(findInputProblem('\u0000', { name: 'id', root: 'param' })?.field).toBe('id');
    expect(findInputProblem('\u0000', { root: 'query' })?.field).toBe('query');
  });

  it('stops nesting past the limit without recursion, naming the top-level field', () => {
    expect(findInputProblem(JSON.parse(deepJson(MAX_INPUT_DEPTH - 1)))).toBeUndefined();
    expect(findInputProblem(JSON.parse(deepJson(MAX_INPUT_DEPTH)))).toBeUndefined();
    expect(findInputProblem(JSON.parse(deepJson(MAX_INPUT_DEPTH + 1)))).toEqual({ field: 'a', message: `a is nested deeper than ${MAX_INPUT_DEPTH} levels` });
    expect(findInputProblem(JSON.parse(`{"masks":${deepJson(3_000)}}`))?.field).toBe('masks');
    expect(findInputProblem(JSON.parse(`[${'['.repeat(100_000)}${']'.repeat(100_000)}]`))?.field).toBe('0');
    expect(findInputProblem(JSON.parse(deepJson(3)), { maxDepth: 2 })?.field).toBe('a');
  });
});

class ProbeDto {
  @IsString() name!: string;
  @IsOptional() @IsObject() masks?: Record<string, unknown>;
}

@Controller()
class ProbeController {
  @Post('probe')
  create(@Body() dto: ProbeDto) {
    return { name: dto.name };
  }

  @Patch('loose')
  loose(@Body() body: unknown) {
    return { got: typeof body };
  }

  @Get('probe/:id')
  one(@Param('id') id: string, @Query('q') q?: string) {
    return { id, q };
  }
}

@Module({ imports: [loggerModule('silent', 'probe')], controllers: [ProbeController] })
class ProbeModule {}

describe('createHttpApp on bad input', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createHttpApp(ProbeModule, { name: 'probe' });
    await app.init();
  });

  afterAll(() => app.close());

  const post = (path: string) => request(app.getHttpServer()).post(path).set('content-type', 'application/json');

  it('400s a NUL character anywhere, naming the field, before the handler or the database sees it', async () => {
    const res = await post('/probe').send(JSON.stringify({ name: 'a\u0000b' }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 'ERROR', code: 'VALIDATION_FAILED', errors: { name: [expect.stringContaining('NUL')] } });
    const nested = await post('/probe').send(JSON.stringify({ name: 'ok', masks: { body: '\u0000' } }));
    expect(nested.body.errors).toEqual({ 'masks.body': ['masks.body must not contain the NUL character (\\u0000)'] });
    // Also where no DTO validates: a loose body, a path parameter, a query parameter.
    expect((await request(app.getHttpServer()).patch('/loose').send({ x: ['\u0000'] })).body.errors).toHaveProperty(['x.0']);
    expect((await request(app.getHttpServer()).get('/probe/a%00b')).body.errors).toHaveProperty('id');
    expect((await request(app.getHttpServer()).get('/probe/x?q=%00')).body.errors).toHaveProperty('q');
  });

  it('400s half a surrogate pair (jsonb refuses it: a 500 at the database), naming the field; a whole emoji is fine', async () => {
    // JSON text with the escape itself: JSON.stringify would write it the same way.
    const res = await post('/probe').send('{"name":"ok","masks":{"number":"\\ud83d"}}');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual({ 'masks.number': [expect.stringContaining('well-formed Unicode')] });
    expect((await post('/probe').send('{"name":"\\udc00x"}')).body.errors).toHaveProperty('name');
    expect((await post('/probe').send(JSON.stringify({ name: 'Ромашка 😀' }))).status).not.toBe(400);
  });

  it('400s a body nested 8,000 deep instead of overflowing the stack (a 500)', async () => {
    const res = await post('/probe').send(deepJson(8_000));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: { a: [expect.stringContaining('nested deeper')] } });
    const masks = await post('/probe').send(`{"name":"x","masks":${deepJson(3_000)}}`);
    expect(masks.status).toBe(400);
    expect(masks.body.errors).toHaveProperty('masks');
    expect((await request(app.getHttpServer()).patch('/loose').set('content-type', 'application/json').send(`[${deepJson(8_000)}]`)).status).toBe(400);
  });

  it('400s a body that is not what its Content-Encoding says, naming the encoding', async () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await post('/probe').set('content-encoding', encoding).send('{"name":"x"}');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 'ERROR', code: 'BAD_CONTENT_ENCODING', errors: { 'Content-Encoding': [expect.stringContaining(encoding)] } });
    }
    expect((await post('/probe').set('content-encoding', 'zork').send('{"name":"x"}')).status).toBe(415);
    // A body that is gzip still works.
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const ok = await fetch(`http://127.0.0.1:${port}/probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync('{"name":"Ромашка"}'),
    });
    expect({ status: ok.status, body: await ok.json() }).toEqual({ status: 201, body: { name: 'Ромашка' } });
  });

  it('still takes good input', async () => {
    expect((await post('/probe').send({ name: 'x', masks: { lines: [{ title: 'ok' }] } })).status).toBe(201);
    expect((await request(app.getHttpServer()).get('/probe/abc?q=x')).body).toEqual({ id: 'abc', q: 'x' });
  });
});

describe('toErrorResponse for the body reader', () => {
  it('maps a decompression error to 400 BAD_CONTENT_ENCODING and other reader 4xx to their status', () => {
    const zlib = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', status: 400, expose: true });
    expect(toErrorResponse(zlib, { headers: { 'content-encoding': 'GZIP' } })).toMatchObject({ status: 400, body: { code: 'BAD_CONTENT_ENCODING' } });
    expect(toErrorResponse(zlib).body.message).toContain('compressed');
    const aborted = Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400, expose: true });
    expect(toErrorResponse(aborted)).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: 'request aborted' } });
    expect(toErrorResponse(Object.assign(new Error('x'), { status: 500, expose: false })).status).toBe(500);
  });
});
