import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { CONFIG, type GatewayConfig } from '../config';
import { HealthController, UPSTREAM_STATES_TTL_MS } from './health.controller';

describe(HealthController.name, () => {
  let upstream: Server;
  let asked = 0;
  let controller: HealthController;
  let app: INestApplicationContext;

  beforeAll(async () => {
    upstream = createServer((_req, res) => {
      asked++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    @Module({
      imports: [TerminusModule],
      controllers: [HealthController],
      providers: [{ provide: CONFIG, useValue: { CONTRACTORS_URL: base, DOCUMENTS_URL: base } as GatewayConfig }],
    })
    class Probe {}
    app = await NestFactory.createApplicationContext(Probe, { logger: false });
    controller = app.get(HealthController);
  });

  afterAll(async () => {
    await app.close();
    await new Promise((r) => upstream.close(r));
  });

  it('asks each upstream once for any number of readiness calls at a time, and again only after the cache has aged', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => controller.ready()));
    expect(answers.every((a) => a.status === 'ok' && a.details['contractors']?.['state'] === 'up')).toBe(true);
    // Two upstreams configured (contractors, documents), one question each.
    expect(asked).toBe(2);
    await controller.ready();
    expect(asked).toBe(2);
    jest.useFakeTimers({ now: Date.now() + UPSTREAM_STATES_TTL_MS + 1, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'clearTimeout', 'queueMicrotask'] });
    try {
      await controller.ready();
    } finally {
      jest.useRealTimers();
    }
    expect(asked).toBe(4);
  });
});
