import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Logger, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Logger as PinoLogger, LoggerModule } from 'nestjs-pino';
import { runWithTrace, shutdownTracing, traceLogFields } from '@papka/messaging';
import { drainOnShutdown } from './graceful-shutdown';
import { HttpErrorFilter, sendError } from './http-error.filter';
import { traceHttpRequests } from './http-tracing';
import { installMetrics } from './metrics';
import { redactUrl } from './redact-url';
import { validationPipe } from './validation';

export const REQUEST_ID_HEADER = 'x-request-id';
export { startHttpClientSpan, startHttpServerSpan, traceHttpRequests } from './http-tracing';

/**
 * The level of a request's one log line: a dependency that is down (503) is an expected outage,
 * said at warn ("unavailable") without a stack, so an outage does not flood the error log; only
 * real failures (other 5xx) are errors.
 */
export function requestLogLevel(status: number, err?: unknown): 'info' | 'warn' | 'error' {
  if (status === 503) return 'warn';
  if (status >= 500 || err) return 'error';
  return status >= 400 ? 'warn' : 'info';
}

/** The line's message; a 503 names what is unavailable (the error code sendError left in res.locals). */
export const requestLogMessage = (status: number, code?: unknown): string =>
  status === 503 ? `unavailable${typeof code === 'string' ? `: ${code}` : ''}` : status >= 500 ? 'request errored' : 'request completed';

/**
 * What pino-http logs with a 5xx line: for a 503 not the Error it makes up ("failed with status
 * code 503", a stack pointing into pino-http itself), which turned every request of an outage
 * into a screenful at error level.
 */
export function requestErrorObject(status: number, logged: Record<string, unknown>): Record<string, unknown> {
  if (status !== 503) return logged;
  const { err: _err, ...rest } = logged;
  return rest;
}

/** Structured JSON logs (pino), one line per request, with the request id. */
export const loggerModule = (level: string, service: string) =>
  LoggerModule.forRoot({
    pinoHttp: {
      level,
      base: { service },
      // trace_id and span_id of the active span (http-tracing.ts), on every line logged inside one.
      mixin: traceLogFields,
      genReqId: (req, res) => {
        const given = req.headers[REQUEST_ID_HEADER];
        const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
        res.setHeader(REQUEST_ID_HEADER, id);
        return id;
      },
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') || (req.url ?? '').startsWith('/metrics') },
      customLogLevel: (_req, res, err) => requestLogLevel(res.statusCode, err),
      customSuccessMessage: (_req, res) => requestLogMessage(res.statusCode),
      customErrorMessage: (_req, res) => requestLogMessage(res.statusCode, (res as { locals?: { errorCode?: unknown } }).locals?.errorCode),
      customErrorObject: (_req, res, _err, logged: Record<string, unknown>) => requestErrorObject(res.statusCode, logged),
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: typeof req.url === 'string' ? redactUrl(req.url) : req.url }),
      },
    },
  });

export interface HttpAppOptions {
  name: string;
  /** Max JSON body size in bytes; larger bodies get 413. */
  bodyLimitBytes?: number;
  /** false: leave bodies unparsed (the gateway streams them through). Default true. */
  parseJson?: boolean;
  /** Title and paths of this service's OpenAPI document, served at /openapi.json. */
  openApi?: { title: string; description?: string };
  /** How long requests in flight may finish after SIGTERM (SHUTDOWN_DRAIN_MS); default 15 s. */
  drainMs?: number;
}

/**
 * A Nest HTTP app with the house conventions: buffered structured logs, our JSON body parser
 * (malformed JSON -> 400, too large -> 413, in our error shape), the whitelisting validation
 * pipe, one error filter, request ids carried into events as trace ids, shutdown hooks.
 */
export async function createHttpApp(module: Type<unknown> | DynamicModule, o: HttpAppOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(PinoLogger));
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  const errorLogger = new Logger('HttpError');
  installMetrics(app); // first, so every request is timed (metrics.ts)
  app.use(traceHttpRequests(o.name)); // a server span per request, child of the caller's traceparent (http-tracing.ts)
  const json = express.json({ limit: o.bodyLimitBytes ?? 1024 * 1024, type: ['application/json', 'application/*+json'] });
  app.use((req: Request, res: Response, next: NextFunction) => {
    const id = String(req.headers[REQUEST_ID_HEADER] ?? (req as { id?: unknown }).id ?? randomUUID());
    runWithTrace(id, () =>
      o.parseJson === false ? next() : json(req, res, (err?: unknown) => (err ? sendError(req, res, err, errorLogger) : next())),
    );
  });
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  app.enableShutdownHooks();
  // Longer than any client's or proxy's idle timeout, so the server is never the side that
  // closes a keep-alive connection a request is being sent on.
  const server = app.getHttpServer() as { keepAliveTimeout: number; headersTimeout: number };
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // On SIGTERM: stop listening, answer what arrives with Connection: close, close idle
  // connections, and let Nest close the server only once they are gone (graceful-shutdown.ts).
  const drain = drainOnShutdown(app.getHttpServer(), { forceAfterMs: o.drainMs });
  const adapter = app.getHttpAdapter();
  const closeServer = adapter.close.bind(adapter);
  adapter.close = async () => {
    await drain.drained();
    return closeServer();
  };
  // Spans still buffered are exported once the server has closed (at most 2 s more).
  const closeTraced = adapter.close.bind(adapter);
  adapter.close = async () => {
    try {
      return await closeTraced();
    } finally {
      await shutdownTracing(o.name);
    }
  };
  if (o.openApi) serveOpenApi(app, o.openApi);
  return app;
}

/**
 * Hands the requests `accepts` takes (by their target) to `handle` on Node's `request` event,
 * before Express and Nest see them; the rest go to Express as before. For a hot path that needs
 * none of their layers (the gateway's proxy), which then does itself what the app's
 * middlewares do (metrics, trace context). The graceful-shutdown listener still runs first.
 */
export function serveAhead(app: NestExpressApplication, accepts: (url: string | undefined) => boolean, handle: (req: IncomingMessage, res: ServerResponse) => void): void {
  const server = app.getHttpServer() as Server;
  const express = app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: ServerResponse) => void;
  if (!server.listeners('request').includes(express)) throw new Error('serveAhead: Express is not the server\'s request listener');
  server.removeListener('request', express);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => (accepts(req.url) ? handle(req, res) : express(req, res)));
}

function serveOpenApi(app: INestApplication, o: { title: string; description?: string }): void {
  const config = new DocumentBuilder()
    .setTitle(o.title)
    .setDescription(o.description ?? '')
    .setVersion('2')
    .addBearerAuth()
    .build();
  let doc: unknown;
  app
    .getHttpAdapter()
    .get('/openapi.json', (_req: Request, res: Response) => {
      doc ??= SwaggerModule.createDocument(app, config);
      res.json(doc);
    });
}

/** Logs and exits when start-up fails, so orchestrators see a crash, not a hang. */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((err: Error) => {
    const logger = new Logger(name);
    logger.error(`failed to start: ${err.message}`, err.stack);
    // Give the logger a moment to flush before leaving.
    setTimeout(() => process.exit(1), 100);
  });
}
