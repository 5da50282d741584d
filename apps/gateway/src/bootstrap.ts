import type { NestExpressApplication } from '@nestjs/platform-express';
import swaggerUi from 'swagger-ui-express';
import { TokenVerifier } from '@papka/auth';
import { createHttpApp } from '@papka/platform';
import { AppModule } from './app.module';
import { loadGatewayConfig } from './config';
import { createProxyHandler } from './proxy/proxy.handler';

/** Starts the gateway: /v2/** proxied by the route table, /docs, /health. */
export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<NestExpressApplication> {
  const config = loadGatewayConfig(env);
  // No body parsing here: bodies stream through to the services untouched.
  const app = await createHttpApp(AppModule.register(config), { name: 'gateway', parseJson: false });
  app.use('/v2', createProxyHandler(config, app.get(TokenVerifier)));
  app.use('/docs', swaggerUi.serveFiles(undefined, { swaggerOptions: { url: '/docs/openapi.json' } }));
  app.use(/^\/docs\/?$/, swaggerUi.setup(undefined, { swaggerOptions: { url: '/docs/openapi.json' }, customSiteTitle: 'Papka API' }));
  await app.listen(config.PORT, config.HOST);
  return app;
}
