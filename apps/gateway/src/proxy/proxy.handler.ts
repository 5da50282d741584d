import { randomUUID } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { Agent, Dispatcher, errors as undiciErrors, stream } from 'undici';
import { bearerToken, InvalidTokenError, type TokenVerifier } from '@papka/auth';
import {
  AppError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  redactUrl,
  sendError,
  ServiceNotAvailableError,
  startHttpClientSpan,
  UnauthorizedError,
  UpstreamOutcomeUnknownError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '@papka/platform';
import type { GatewayConfig } from '../config';
import { RouteTable } from './route-table';
import { ROUTES, type Upstream } from './routes';
import { VerifiedTokens } from './verified-tokens';

/** Headers that describe one hop and must not be forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

const bodyTooLarge = (limit: number) => new PayloadTooLargeError(`Request body is larger than ${limit} bytes`);

/** Counts bytes while streaming and fails once the cap is passed (chunked bodies). */
class ByteLimit extends Transform {
  private seen = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) cb(bodyTooLarge(this.limit));
    else cb(null, chunk);
  }
}

/**
 * Sees undici start writing one request to a socket (`onConnect`, called right before the
 * first byte goes out): the line between "surely not delivered" (refused, DNS, connect
 * timeout, no socket) and "maybe delivered". The idea of libs/http-client's SentTracker, but
 * the line is drawn earlier: a proxied body streams, and an upstream that dies while reading
 * it may already have acted on what it got. One per call, over the shared agent: it sets an
 * own `onConnect` on undici's (legacy-style) request handler that notes the moment and calls
 * the handler's own, and hands everything else to the agent untouched.
 */
function writeTracker(agent: Agent): { writing: boolean; dispatcher: Dispatcher } {
  const tracker = {
    writing: false,
    dispatcher: {
      dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        const inner = handler as { onConnect?: (abort: (err?: Error) => void, context?: unknown) => void };
        const own = inner.onConnect;
        inner.onConnect = function (this: unknown, abort: (err?: Error) => void, context?: unknown) {
          tracker.writing = true;
          own?.call(this, abort, context);
        };
        return agent.dispatch(opts, handler);
      },
    } as unknown as Dispatcher,
  };
  return tracker;
}

export function upstreamUrls(config: GatewayConfig): Record<Upstream, string | undefined> {
  return {
    contractors: config.CONTRACTORS_URL,
    documents: config.DOCUMENTS_URL,
    interactions: config.INTERACTIONS_URL,
    'finance-sync': config.FINANCE_SYNC_URL,
  };
}

/**
 * The gateway's one request path: authenticate, rate-limit per token, match the route table,
 * stream the request to its service and the answer back, without buffering either body.
 */
export function createProxyHandler(config: GatewayConfig, verifier: TokenVerifier) {
  const logger = new Logger('Proxy');
  const table = new RouteTable(ROUTES);
  const upstreams = upstreamUrls(config);
  const tokens = new VerifiedTokens(verifier);
  const limiter = new RateLimiterMemory({ points: config.RATE_LIMIT_POINTS, duration: config.RATE_LIMIT_WINDOW_SECONDS });
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 128, headersTimeout: config.PROXY_TIMEOUT_MS, bodyTimeout: 0 });

  const consume = async (key: string): Promise<void> => {
    try {
      await limiter.consume(key);
    } catch (rej) {
      if (!(rej instanceof RateLimiterRes)) throw rej;
      const retryAfter = Math.max(1, Math.ceil(rej.msBeforeNext / 1000));
      throw new RateLimitedError(retryAfter);
    }
  };

  return async (req: Request, res: Response, _next: NextFunction): Promise<void> => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    // The route template labels this request's metrics (never the raw path with its ids), also when it is refused before routing (401, 429).
    const labelled = table.match(req.method, req.originalUrl.split('?')[0]);
    if (labelled.kind === 'found') res.locals.route = labelled.route.path;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.log({ requestId, method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms: Math.round(ms * 10) / 10 });
    });
    try {
      const path = req.originalUrl.split('?')[0];
      const match = labelled;
      if (match.kind === 'found' && match.route.public) {
        // No account to key the limit on: the path (its hook token) is the caller's identity.
        await consume(`public:${path}`);
      } else {
        const token = bearerToken(req.headers.authorization);
        if (!token) throw new UnauthorizedError('Authorization: Bearer <token> header is required');
        const account = await tokens.verify(token).catch((err: unknown) => {
          if (err instanceof InvalidTokenError) throw new UnauthorizedError(err.message);
          throw err;
        });
        await consume(`${account.accountId}:${account.userId}`);
      }

      if (match.kind === 'not-found') throw new NotFoundError(`route ${req.method} ${path}`);
      if (match.kind === 'method-not-allowed') throw new MethodNotAllowedError(req.method, path, match.allow);
      const base = upstreams[match.route.upstream];
      if (!base) throw new ServiceNotAvailableError(match.route.upstream);

      const limit = match.route.body === 'upload' ? config.UPLOAD_LIMIT_BYTES : config.BODY_LIMIT_BYTES;
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > limit) throw bodyTooLarge(limit);
      const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;

      await forward(req, res, `${base.replace(/\/+$/, '')}${req.originalUrl}`, hasBody ? req.pipe(new ByteLimit(limit)) : null);
    } catch (err) {
      if (!(err instanceof AppError)) logger.error(`proxy failed: ${(err as Error).message}`);
      // Drain what the client is still sending, so it reads our answer instead of a reset.
      req.resume();
      sendError(req, res, err, logger);
    }
  };

  async function forward(req: Request, res: Response, url: string, body: NodeJS.ReadableStream | null) {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    }
    headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    // Host is not forwarded (hop-by-hop above), so the origin the client used travels here: a
    // service that builds public URLs (finance-sync's webhookUrl) points them at the gateway.
    // An ingress in front of the gateway has set them already, and its values win.
    if (!req.headers['x-forwarded-host'] && req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    if (!req.headers['x-forwarded-proto']) headers['x-forwarded-proto'] = req.protocol;
    if (body === null) delete headers['content-length'];
    // A client span under this request's server span; its traceparent replaces any the client sent.
    const span = startHttpClientSpan(req.method, url);
    Object.assign(headers, span.headers);

    // undici writes the answer's body straight into `res` (its `stream` API: no intermediate
    // Readable, no stream.pipeline with its AbortController per request) and ends it.
    let status: number | undefined;
    const tracker = writeTracker(agent);
    try {
      await stream(url, { method: req.method as 'GET', headers, body: body as never, dispatcher: tracker.dispatcher }, (answer) => {
        status = answer.statusCode;
        res.status(answer.statusCode);
        for (const [k, v] of Object.entries(answer.headers)) {
          if (v !== undefined && !HOP_BY_HOP.has(k)) res.setHeader(k, v);
        }
        return res;
      });
    } catch (err) {
      if (status !== undefined) {
        // The answer had begun: the client went away or the upstream broke mid-stream. Nothing
        // sensible to send.
        span.end(status);
        res.destroy();
        return;
      }
      span.end(undefined, err);
      const cause = (err as { cause?: unknown }).cause ?? err;
      if (cause instanceof PayloadTooLargeError || err instanceof PayloadTooLargeError) throw cause;
      // No answer within PROXY_TIMEOUT_MS: 504, and no Retry-After, since it may have been applied.
      if (err instanceof undiciErrors.HeadersTimeoutError) throw new UpstreamTimeoutError();
      // sendError logs the answer at warn; the low-level cause only at debug, so one line per request.
      const code = (err as { code?: string }).code;
      logger.debug(`upstream failed ${tracker.writing ? 'after' : 'before'} writing ${req.method} ${redactUrl(url)}: ${(err as Error).message}${code ? ` (${code})` : ''}`);
      // Never written to a socket (refused, DNS, connect timeout): surely not delivered, so 503 + Retry-After.
      if (!tracker.writing) throw new UpstreamUnavailableError();
      // Written, then no answer (reset, closed, died mid-request): it may have been applied.
      // 502 for every method, without Retry-After; the client knows whether repeating is safe.
      throw new UpstreamOutcomeUnknownError();
    }
    span.end(status);
  }
}
