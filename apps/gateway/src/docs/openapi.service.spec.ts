import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { gatewayEnvSchema } from '../config';
import { OpenApiService } from './openapi.service';

type Op = { summary?: string; responses?: Record<string, unknown> };

describe(OpenApiService.name, () => {
  let contractors: Server | undefined;
  let port: number;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    // A free port, closed again: the contractors service "restarting".
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
  });

  afterAll(async () => {
    if (contractors) await new Promise((r) => contractors!.close(r));
  });

  it('says a configured service that does not answer is unreachable for now (not undeployed), and keeps that document 2 s only', async () => {
    const sut = new OpenApiService(gatewayEnvSchema.parse({ NODE_ENV: 'test', CONTRACTORS_URL: `http://127.0.0.1:${port}` }));
    const first = await sut.document();
    const list = first.paths['/v2/contractors']!.get as Op;
    expect(list.summary).toBe('contractors (not reachable right now; its full description follows once it answers)');
    // Not configured at all: not deployed.
    expect((first.paths['/v2/docs/interactions']!.get as Op).summary).toBe('interactions (not available in this deployment yet)');

    contractors = createServer((_req, res) =>
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ paths: { '/v2/contractors': { get: { summary: 'Список контрагентов', responses: { '200': {} } } } } })),
    );
    await new Promise<void>((r) => contractors!.listen(port, '127.0.0.1', r));
    // Kept 2 s (the route is public: not a fan-out per request), then asked again, not 30 s later.
    expect((await sut.document()).paths['/v2/contractors']!.get).toMatchObject({ summary: expect.stringContaining('not reachable right now') });
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 2_500);
    try {
      expect((await sut.document()).paths['/v2/contractors']!.get).toMatchObject({ summary: 'Список контрагентов' });
    } finally {
      clock.mockRestore();
    }
  });

  it('lists a service that answers without a document as not available, and builds once for concurrent requests', async () => {
    let asked = 0;
    const old = createServer((_req, res) => (asked++, res.writeHead(404).end()));
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
    try {
      const sut = new OpenApiService(gatewayEnvSchema.parse({ NODE_ENV: 'test', CONTRACTORS_URL: `http://127.0.0.1:${(old.address() as AddressInfo).port}` }));
      const docs = await Promise.all([sut.document(), sut.document(), sut.document()]);
      expect(asked).toBe(1);
      expect((docs[2].paths['/v2/contractors']!.get as Op).summary).toBe('contractors (not available in this deployment yet)');
      await sut.document();
      expect(asked).toBe(1);
    } finally {
      await new Promise((r) => old.close(r));
    }
  });
});
