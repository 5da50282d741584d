import { Controller, Get, Module, Param, type DynamicModule } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Registry } from 'prom-client';
import { createHttpApp, loggerModule } from './http-app';
import { MetricsModule, MetricsServer, routeTemplate, UNMATCHED_ROUTE } from './metrics';
import { findSamples, readSamples } from './prometheus-text';

@Controller()
class ItemsController {
  @Get('/v2/docs/items/:id')
  get(@Param('id') id: string) {
    return { id };
  }
}

@Module({})
class TestModule {
  static register(metricsPort?: number): DynamicModule {
    return {
      module: TestModule,
      imports: [loggerModule('silent', 'items'), MetricsModule.forRoot({ service: 'items', port: metricsPort, host: '127.0.0.1' })],
      controllers: [ItemsController],
    };
  }
}

async function start(metricsPort?: number): Promise<{ app: NestExpressApplication; base: string }> {
  const app = await createHttpApp(TestModule.register(metricsPort), { name: 'items' });
  await app.listen(0, '127.0.0.1');
  return { app, base: await app.getUrl().then((u) => u.replace('[::1]', '127.0.0.1')) };
}

describe(routeTemplate.name, () => {
  it('prefers the template a handler left in res.locals, then the Express route, else "unmatched"', () => {
    expect(routeTemplate({ baseUrl: '', route: { path: '/x/:id' } }, { locals: { route: '/v2/docs/contractors/:id' } })).toBe('/v2/docs/contractors/:id');
    expect(routeTemplate({ baseUrl: '/api', route: { path: '/x/:id' } }, { locals: {} })).toBe('/api/x/:id');
    expect(routeTemplate({ baseUrl: '' }, { locals: {} })).toBe(UNMATCHED_ROUTE);
    expect(routeTemplate({ baseUrl: '', route: { path: '/{*path}' } }, { locals: {} })).toBe(UNMATCHED_ROUTE); // Nest's 404 route
  });
});

describe('metrics of an HTTP app (MetricsModule + createHttpApp)', () => {
  const id = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';

  describe('on the app port (no METRICS_PORT)', () => {
    let app: NestExpressApplication;
    let base: string;
    beforeAll(async () => ({ app, base } = await start()));
    afterAll(() => app.close());

    it('serves Prometheus text without auth, every series labelled with the service', async () => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toMatch(/^process_cpu_user_seconds_total\{service="items"\} /m); // the process defaults
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="items"\} /m);
    });

    it('times requests by route template and status, never by the raw path', async () => {
      expect((await fetch(`${base}/v2/docs/items/${id}`)).status).toBe(200);
      expect((await fetch(`${base}/v2/nowhere/${id}`)).status).toBe(404);
      const text = await (await fetch(`${base}/metrics`)).text();
      const count = (route: string, status: string) =>
        findSamples(text, 'http_request_duration_seconds_count', { service: 'items', method: 'GET', route, status_code: status }).map((s) => s.value);
      expect(count('/v2/docs/items/:id', '200')).toEqual([1]);
      expect(count(UNMATCHED_ROUTE, '404')).toEqual([1]);
      expect(readSamples(text).every((s) => s.labels.service === 'items')).toBe(true);
      expect(text).not.toContain(id);
      expect(text).not.toMatch(/route="\/metrics"/); // the scrape itself is not timed
    });

    it('gives each app its own registry (the embedded mode runs every service in one process)', async () => {
      const other = await start();
      try {
        expect(other.app.get(Registry)).not.toBe(app.get(Registry));
        expect(await (await fetch(`${other.base}/metrics`)).text()).not.toMatch(/route="\/v2\/docs\/items\/:id"/);
      } finally {
        await other.app.close();
      }
    });
  });

  describe('with METRICS_PORT', () => {
    let app: NestExpressApplication;
    let base: string;
    beforeAll(async () => ({ app, base } = await start(0)));
    afterAll(() => app.close());

    it('serves /metrics only on its own port, not on the app port (not reachable through the Ingress)', async () => {
      expect((await fetch(`${base}/v2/docs/items/${id}`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      const port = app.get(MetricsServer).port();
      expect(port).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(findSamples(text, 'http_request_duration_seconds_count', { service: 'items', route: '/v2/docs/items/:id', status_code: '200' })).toHaveLength(1);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    });

    it('closes the metrics server with the app', async () => {
      const other = await start(0);
      const port = other.app.get(MetricsServer).port();
      await other.app.close();
      await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    });
  });
});
