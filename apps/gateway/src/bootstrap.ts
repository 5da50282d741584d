import type { NestExpressApplication } from '@nestjs/platform-express';
import swaggerUi from 'swagger-ui-express';
import { TokenVerifier } from '@papka/auth';
import { createHttpApp, HttpMetrics, serveAhead } from '@papka/platform';
import { AppModule } from './app.module';
import { loadGatewayConfig } from './config';
import { createProxyHandler, isProxiedTarget } from './proxy/proxy.handler';

/** Starts the gateway: /v2/** proxied by the route table, /docs, /health. */
export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<NestExpressApplication> {
  const config = loadGatewayConfig(env);
  // No body parsing here: bodies stream through to the services untouched.
  const app = await createHttpApp(AppModule.register(config), { name: 'gateway', parseJson: false, drainMs: config.SHUTDOWN_DRAIN_MS });
  const proxy = createProxyHandler(config, app.get(TokenVerifier), { service: 'gateway', metrics: app.get(HttpMetrics) });
  // /v2/** is answered on Node's request event, before Express and Nest (timed and traced by the
  // proxy itself); what else Express would route to /v2 (a target not in origin form) still is.
  serveAhead(app, isProxiedTarget, proxy.handle);
  app.use('/v2', proxy);
  app.use('/docs', swaggerUi.serveFiles(undefined, { swaggerOptions: { url: '/docs/openapi.json' } }));
  app.use(/^\/docs\/?$/, swaggerUi.setup(undefined, { swaggerOptions: { url: '/docs/openapi.json' }, customSiteTitle: 'Papka API' }));
  await app.listen(config.PORT, config.HOST);
  return app;
}
