/**
 * The bench baseline: a bare Nest + Express app (no auth, no validation, no database)
 * answering the same JSON as the real endpoints. Started by gateway.bench.ts in its own
 * process, as the services are. Reads the list body from BARE_LIST_JSON (a file path).
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const listBody: unknown = JSON.parse(readFileSync(process.env.BARE_LIST_JSON!, 'utf8'));

@Controller()
class BareController {
  @Get('/health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('/bare/list')
  list() {
    return listBody;
  }

  @Post('/bare/create')
  create(@Body() _body: unknown) {
    return { status: 'OK', uuid: '00000000-0000-4000-8000-000000000000' };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function main() {
  const app = await NestFactory.create(BareModule, { logger: false });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
}
void main();
