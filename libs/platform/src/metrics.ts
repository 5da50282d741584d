import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type INestApplication,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Where every service answers Prometheus text (no auth). */
export const METRICS_PATH = '/metrics';

/** The `route` label of a request that matched no route (a 404, or refused before routing): never its raw URL. */
export const UNMATCHED_ROUTE = 'unmatched';

export interface MetricsOptions {
  /** The `service` label on every series. */
  service: string;
  /**
   * Serve `/metrics` on its own server on this port (Kubernetes: `METRICS_PORT`, not reachable
   * through the Ingress) instead of on the app's port. Unset: on the app's port (embedded
   * mode, compose), so `curl localhost:300x/metrics` works.
   */
  port?: number;
  host?: string;
}

const METRICS_OPTIONS = Symbol('METRICS_OPTIONS');

/**
 * One registry per service, not prom-client's global one: the embedded mode runs every service
 * in one process, and each must answer its own series under its own `service` label.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

const CATCH_ALL = /^\/?(\{\*\w*\}|\*\w*|\(\.\*\))$/;

/**
 * The `route` label of a request: the route TEMPLATE (`/v2/docs/contractors/:id`), never the
 * raw path with its ids (one series per id would swamp Prometheus). A handler that routes by
 * itself (the gateway's proxy) leaves its template in `res.locals.route`; Express routes are
 * read from `req.route`; anything else is {@link UNMATCHED_ROUTE}.
 */
export function routeTemplate(req: Pick<Request, 'baseUrl'> & { route?: { path?: unknown } }, res: { locals?: Record<string, unknown> }): string {
  const own = res.locals?.route;
  if (typeof own === 'string' && own) return own;
  const path = req.route?.path;
  // Nest answers 404s from a catch-all route (`/{*path}`): that is no route of ours.
  if (typeof path === 'string' && path && !CATCH_ALL.test(path)) return `${req.baseUrl ?? ''}${path}`;
  return UNMATCHED_ROUTE;
}

/** `http_request_duration_seconds{method, route, status_code}` of one service. */
@Injectable()
export class HttpMetrics {
  readonly duration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(readonly registry: Registry) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by route template and status, from arrival to the last byte of the answer',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  }

  /**
   * Times every request but the scrape itself; a client gone before the answer ended counts as
   * `status_code="aborted"`. Per request: one number kept on the response and one listener
   * shared by all responses (no timer closure); at the end one labels object for prom-client.
   */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (req.path === METRICS_PATH) return next();
    this.time(res);
    next();
  };

  /**
   * Times one response from now, for a handler that runs before Express (the gateway's
   * proxy), which leaves its route template in `res.locals.route` as the middleware's do.
   */
  readonly time = (res: ServerResponse): void => {
    (res as Timed)[STARTED] = performance.now();
    res.once('close', this.observe);
  };

  /** The `close` listener of every timed response (called with the response as `this`). */
  private readonly observe: (this: ServerResponse & Partial<Pick<Response, 'locals'>> & Timed) => void = (() => {
    const metrics = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the listener's own `this` is the response
    return function (this: ServerResponse & Partial<Pick<Response, 'locals'>> & Timed): void {
      metrics.duration.observe(
        { method: this.req.method ?? '', route: routeTemplate(this.req as Request, this), status_code: this.writableFinished ? statusLabel(this.statusCode) : 'aborted' },
        (performance.now() - (this[STARTED] ?? 0)) / 1000,
      );
    };
  })();
}

const STARTED = Symbol('papka.metrics.started');
type Timed = { [STARTED]?: number };
/** Status codes as label strings, made once. */
const STATUS_LABELS = Array.from({ length: 600 }, (_, i) => String(i));
const statusLabel = (code: number) => STATUS_LABELS[code] ?? String(code);

/** Answers the registry's Prometheus text. */
export function metricsHandler(registry: Registry) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    registry.metrics().then(
      (text) => {
        res.statusCode = 200;
        res.setHeader('content-type', registry.contentType);
        res.end(text);
      },
      (err: Error) => {
        res.statusCode = 500;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(`metrics collection failed: ${err.message}\n`);
      },
    );
  };
}

/** The separate metrics server when `port` is set: started with the app, closed with it. */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | null = null;

  constructor(
    private readonly registry: Registry,
    @Inject(METRICS_OPTIONS) private readonly options: MetricsOptions,
  ) {}

  /** True when `/metrics` is served here and not on the app's port. */
  get separate(): boolean {
    return this.options.port !== undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.port === undefined) return;
    const handle = metricsHandler(this.registry);
    const server = createServer((req, res) => {
      if ((req.method === 'GET' || req.method === 'HEAD') && (req.url ?? '').split('?')[0] === METRICS_PATH) return handle(req, res);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.log(`metrics on :${(server.address() as AddressInfo).port}${METRICS_PATH}`);
  }

  /** The metrics server's port (the app's port when not separate: null). */
  port(): number | null {
    return this.server ? (this.server.address() as AddressInfo).port : null;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Prometheus metrics of one service (global): its own `Registry` (other modules inject it by
 * that class, e.g. the messaging and render-pool gauges), the HTTP duration histogram, the
 * process defaults, and the separate metrics server when `port` is set.
 */
@Module({})
export class MetricsModule {
  static forRoot(o: MetricsOptions): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      providers: [
        { provide: METRICS_OPTIONS, useValue: o },
        { provide: Registry, useFactory: () => createMetricsRegistry(o.service) },
        { provide: HttpMetrics, useFactory: (registry: Registry) => new HttpMetrics(registry), inject: [Registry] },
        MetricsServer,
      ],
      exports: [Registry, HttpMetrics, MetricsServer],
    };
  }
}

/**
 * A provider of the app, or undefined when it has none. Not `app.get` in a try: Nest's app
 * proxy treats a missing provider as a fatal start-up error and exits the process.
 */
function optional<T>(app: INestApplication, token: new (...args: never[]) => T): T | undefined {
  try {
    return app.get(ModuleRef).get(token, { strict: false }) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Called by createHttpApp before anything else is mounted: times every request and, unless a
 * separate metrics port is set, serves `GET /metrics` on the app's port. Apps without
 * MetricsModule are left alone.
 */
export function installMetrics(app: INestApplication): void {
  const http = optional(app, HttpMetrics);
  if (!http) return;
  app.use(http.middleware);
  if (optional(app, MetricsServer)?.separate) return;
  app.getHttpAdapter().get(METRICS_PATH, metricsHandler(http.registry));
}
