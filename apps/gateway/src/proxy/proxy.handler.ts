import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished, Transform, type TransformCallback } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { Logger } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { Dispatcher, errors as undiciErrors, Pool } from 'undici';
import { bearerToken, InvalidTokenError, KeysUnavailableError, type AccountContext, type TokenVerifier } from '@papka/auth';
import {
  AppError,
  AuthUnavailableError,
  BadRequestTargetError,
  discardBody,
  hasUnreadBody,
  type HttpMetrics,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  redactUrl,
  sendError,
  ServiceNotAvailableError,
  startHttpClientSpan,
  startHttpServerSpan,
  UnauthorizedError,
  UpstreamOutcomeUnknownError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '@papka/platform';
import { MULTIPART_SLACK_BYTES } from '@papka/contracts';
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
  // Not standard, still sent by some clients and proxies; one hop only as `connection` is.
  'proxy-connection',
  // Node's server has answered `100 Continue` itself by the time the request is handled, and
  // undici refuses a request carrying it (a false 503 for every `curl -T` of a large upload).
  'expect',
]);

/** Request headers the gateway sets itself (the upstream gets these values, not the client's). */
const SET_HERE = new Set(['x-request-id', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'traceparent', 'tracestate']);

/** A declared body up to this size is read whole and sent in one write; larger or chunked ones stream. */
/** A public route's sender may send this many tokens' worth of requests (see `senders`). */
export const PUBLIC_SENDER_FACTOR = 20;
const BUFFERED_BODY_BYTES = 64 * 1024;


class RequestBodyTimeoutError extends AppError {
  constructor(ms: number, idle = false) {
    super(408, 'REQUEST_TIMEOUT', idle ? `The request body sent nothing for ${ms} ms` : `The request body did not arrive within ${ms} ms`);
  }
}

/** A transfer coding other than `chunked` (RFC 9112 §6.1: 501): the body would reach the service still coded, and nothing would say so. */
class TransferCodingNotImplementedError extends AppError {
  constructor(coding: string) {
    super(501, 'NOT_IMPLEMENTED', `Transfer-Encoding "${coding}" is not supported: send the body with chunked alone, or with Content-Length`);
  }
}

/**
 * A body the answer did not need (a refusal, an upstream that answered early) is read and dropped
 * so its connection can carry the next request and the client, still sending, reads the answer
 * instead of a reset: for at most this long, and up to this much beyond the route's body cap (a
 * body a little over the cap is drained; one declared far beyond it is not read at all).
 */
const DRAIN_MAX_MS = 5_000;
const DRAIN_SLACK_BYTES = 16 * 1024 * 1024;

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
 * A streamed request body as undici reads it: the client's bytes through a ByteLimit, which
 * fails (and so aborts the call to the service) when the client goes away mid-body, and when
 * the client sends nothing for `idleMs` while the gateway is ready to take more (408).
 *
 * Not `stream.pipeline(req, limit)`: that also destroys `req` when the body fails (a 413 found
 * mid-stream; an upstream that dies reading it, undici destroys the body), and destroying an
 * IncomingMessage destroys its socket, so the client would get a reset instead of its 413 or
 * 502. Only the client's side is carried over; `req.pipe` alone carried neither (an aborted
 * `req` left the body open, and undici waited for bytes that never came: no timer of undici
 * runs while a body is being written).
 */
function streamedBody(req: IncomingMessage, limit: number, idleMs: number): ByteLimit {
  const body = new ByteLimit(limit);
  req.pipe(body);
  let timer: NodeJS.Timeout | undefined;
  // While `req` is paused (the service or its connection is slower than the client) the client
  // is not at fault: the idle time counts only while the gateway is reading.
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (req.readableFlowing === false) return;
      body.destroy(new RequestBodyTimeoutError(idleMs, true));
    }, idleMs);
  };
  const disarm = () => clearTimeout(timer);
  // Left on until `req` is done (ended, or closed: drained or not, it is), also after the body
  // is: its 'error' listener must stay, or an abort racing the body's end is an uncaught error.
  finished(req, (err) => {
    disarm();
    // Gone before its end (aborted, reset): the body fails, undici aborts the upstream call.
    if (err && !body.destroyed) body.destroy(err);
  });
  const cleanup = () => {
    disarm();
    req.off('data', arm);
    req.off('resume', arm);
    req.off('pause', disarm);
  };
  req.on('data', arm);
  req.on('resume', arm);
  req.on('pause', disarm);
  body.once('close', cleanup);
  arm();
  return body;
}

/**
 * The client address a public route's rate limit is keyed on: the socket's peer, or with
 * `trustedHops` proxies in front, the `X-Forwarded-For` entry that many hops back (each proxy
 * appends the address it got the request from; what lies before the trusted ones is the
 * client's to forge).
 */
function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = req.socket?.remoteAddress ?? '';
  if (trustedHops === 0) return peer;
  const xff = req.headers['x-forwarded-for'];
  const chain = typeof xff === 'string' ? xff.split(',').map((a) => a.trim()).filter(Boolean) : [];
  chain.push(peer);
  return chain[Math.max(0, chain.length - 1 - trustedHops)]!;
}

/** The client is gone already (while its token was checked, say): nothing to forward, nobody to answer. */
const clientGone = (req: IncomingMessage, res: ServerResponse): boolean => res.closed || res.destroyed || !req.socket || req.socket.destroyed;

export function upstreamUrls(config: GatewayConfig): Record<Upstream, string | undefined> {
  return {
    contractors: config.CONTRACTORS_URL,
    documents: config.DOCUMENTS_URL,
    interactions: config.INTERACTIONS_URL,
    'finance-sync': config.FINANCE_SYNC_URL,
  };
}

/** One upstream: its connection pool and the path prefix of its base URL ('' for most). */
interface UpstreamPool {
  pool: Pool;
  origin: string;
  prefix: string;
}

/**
 * Whether Express's `app.use('/v2', ...)` would take this request target: its path is `/v2`
 * or under `/v2/`, case-insensitively (Express routes ignore case). Only origin-form targets
 * (`/...`); anything else is left to Express.
 */
export function isProxiedTarget(url: string | undefined): boolean {
  if (!url || url.charCodeAt(0) !== 0x2f /* / */ || url.length < 3) return false;
  if ((url.charCodeAt(1) | 0x20) !== 0x76 /* v */ || url.charCodeAt(2) !== 0x32 /* 2 */) return false;
  const next = url.charCodeAt(3);
  return url.length === 3 || next === 0x2f /* / */ || next === 0x3f /* ? */;
}

export interface ProxyOptions {
  /** The service name of the server spans (`papka-<service>`); the gateway's. */
  service?: string;
  /** Times what `handle` answers (requests before Express are not seen by the metrics middleware). */
  metrics?: HttpMetrics;
}

/**
 * The gateway's request path as an Express middleware (mounted at `/v2`: Express has timed and
 * traced the request), plus `handle`, the same for Node's `request` event before Express: the
 * proxied routes skip Express and Nest altogether, and `handle` does what their middlewares
 * did (the duration metric, the server span or the propagated trace context).
 */
export interface ProxyHandler {
  (req: IncomingMessage, res: ServerResponse, next?: unknown): void;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * The gateway's one request path: authenticate, rate-limit per token, match the route table,
 * send the request to its service and the answer back, without parsing either body (a small
 * declared body is read whole and sent in one write; others stream).
 */
export function createProxyHandler(config: GatewayConfig, verifier: TokenVerifier, o: ProxyOptions = {}): ProxyHandler {
  const service = o.service ?? 'gateway';
  const logger = new Logger('Proxy');
  const logsRequests = ['info', 'debug', 'trace'].includes(config.LOG_LEVEL);
  const table = new RouteTable(ROUTES);
  const tokens = new VerifiedTokens(verifier);
  const limiter = new RateLimiterMemory({ points: config.RATE_LIMIT_POINTS, duration: config.RATE_LIMIT_WINDOW_SECONDS });
  // A public route's sender as a whole: one Adesk address sends every tenant's webhooks, so its
  // ceiling is PUBLIC_SENDER_FACTOR tokens' worth, each hook (its path) still within one token's.
  const senders = new RateLimiterMemory({ points: config.RATE_LIMIT_POINTS * PUBLIC_SENDER_FACTOR, duration: config.RATE_LIMIT_WINDOW_SECONDS });
  const pools = new Map<Upstream, UpstreamPool>();
  for (const [name, base] of Object.entries(upstreamUrls(config)) as [Upstream, string | undefined][]) {
    if (!base) continue;
    const u = new URL(base);
    pools.set(name, {
      // bodyTimeout is undici's idle time between chunks of the answer (not counted while the
      // client's side is paused): a long download is not cut, one that stalls after its headers is.
      pool: new Pool(u.origin, {
        keepAliveTimeout: 30_000,
        connections: config.PROXY_CONNECTIONS,
        headersTimeout: config.PROXY_TIMEOUT_MS,
        bodyTimeout: config.PROXY_RESPONSE_IDLE_MS,
      }),
      origin: u.origin,
      prefix: u.pathname.replace(/(?<!\/)\/+$/, ''),
    });
  }

  const limited = (rej: unknown): never => {
    if (!(rej instanceof RateLimiterRes)) throw rej;
    const retryAfter = Math.max(1, Math.ceil(rej.msBeforeNext / 1000));
    throw new RateLimitedError(retryAfter);
  };

  const refused = (err: unknown): never => {
    if (err instanceof InvalidTokenError) throw new UnauthorizedError(err.message);
    if (err instanceof KeysUnavailableError) {
      logger.warn(err.message);
      throw new AuthUnavailableError();
    }
    throw err;
  };

  /** One request; `url` is its target as the client sent it, `trace` the context of its server span. */
  async function proxy(req: IncomingMessage, res: ServerResponse & { locals?: Record<string, unknown> }, url: string, traceCtx?: Context) {
    const method = req.method ?? 'GET';
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = requestId;
    res.setHeader('x-request-id', requestId);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // The route table matches the target as sent, and a service's Express drops a `#` and what
    // follows, then reads `\` as `/`: `DELETE …/interactions/<id>#/payments/<p>` matched "remove a
    // payment" here and deleted the whole interaction there. Such a target is refused.
    const ambiguous = url.includes('#') || path.includes('\\');
    // The route template labels this request's metrics (never the raw path with its ids), also when it is refused before routing (401, 429).
    const match = table.match(method, path);
    res.locals ??= {};
    if (match.kind === 'found') res.locals.route = match.route.path;
    // One line per request, at info (at LOG_LEVEL warn and above: no listener, no line object).
    if (logsRequests) {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        logger.log({ requestId, method, url: redactUrl(url), status: res.statusCode, ms: Math.round(ms * 10) / 10, ...traceFields(traceCtx) });
      });
    }
    // An upload's cap is documents' own: the file's UPLOAD_LIMIT_BYTES plus the multipart framing.
    const limit = match.kind === 'found' && match.route.body === 'upload' ? config.UPLOAD_LIMIT_BYTES + MULTIPART_SLACK_BYTES : config.BODY_LIMIT_BYTES;
    try {
      // Node de-chunks `gzip, chunked` and the header is hop-by-hop: the service would get the
      // still-coded bytes as a plain body. Only `chunked` alone is understood (RFC 9112 §6.1).
      const coding = req.headers['transfer-encoding'];
      if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') throw new TransferCodingNotImplementedError(coding);
      if (match.kind === 'found' && match.route.public) {
        // No account to key the limit on, and the path (its hook token) is the caller's to
        // choose: each hook of a sender within one token's limit, and the sender (the client's
        // address) within PUBLIC_SENDER_FACTOR of them. Keyed by the address alone, one tenant's
        // burst of Adesk webhooks made every other tenant's 429 (Adesk sends all from a few addresses).
        const sender = clientAddress(req, config.TRUST_PROXY_HOPS);
        await senders.consume(`public:${sender}`).catch(limited);
        await limiter.consume(`public:${sender}:${path}`).catch(limited);
      } else {
        const token = bearerToken(req.headers.authorization);
        if (!token) throw new UnauthorizedError('Authorization: Bearer <token> header is required');
        const account: AccountContext = tokens.known(token) ?? (await tokens.verify(token).catch(refused));
        await limiter.consume(`${account.accountId}:${account.userId}`).catch(limited);
      }

      if (ambiguous) throw new BadRequestTargetError();
      if (match.kind === 'not-found') throw new NotFoundError(`route ${method} ${path}`);
      if (match.kind === 'method-not-allowed') throw new MethodNotAllowedError(method, path, match.allow);
      const upstream = pools.get(match.route.upstream);
      if (!upstream) throw new ServiceNotAvailableError(match.route.upstream);

      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > limit) throw bodyTooLarge(limit);
      const chunked = req.headers['transfer-encoding'] !== undefined;
      let body: Buffer | NodeJS.ReadableStream | null = null;
      let streams = false;
      if ((!chunked && declared > 0 && declared <= BUFFERED_BODY_BYTES) || (match.route.public && (chunked || declared > 0))) {
        // A public route's body (an Adesk webhook: a small JSON sent at once) is read whole, in
        // PUBLIC_BODY_TIMEOUT_MS, before a connection to its service is taken: a caller with no
        // token trickling a body must not hold one of the service's pooled connections.
        body = match.route.public
          ? await readWholeBody(req, limit, config.PUBLIC_BODY_TIMEOUT_MS)
          : await readWholeBody(req, limit, config.PROXY_BODY_IDLE_MS, true);
        if (body === null) return; // the client went away mid-body: nobody to answer
      } else if (chunked || declared > 0) {
        streams = true;
      }
      // Gone while its token was checked: no connection is taken for it. Its answer's 'close'
      // has been and gone, so nothing would end the call to the service (a streamed body left
      // undici waiting for bytes that never came, the connection held for good).
      if (clientGone(req, res)) return;
      if (streams) body = streamedBody(req, limit, config.PROXY_BODY_IDLE_MS);
      await forward(req, res, upstream, `${upstream.prefix}${url}`, body, traceCtx);
      // An upstream may answer before it has read the whole body (a refusal on the headers
      // alone). What the client still sends is read and dropped, or its next request on this
      // connection would wait behind the unread rest until the connection is reset.
      discardRest(req, res, limit + DRAIN_SLACK_BYTES);
    } catch (err) {
      // Drain what the client is still sending, so it reads our answer instead of a reset; one
      // too slow to send its body in time is not waited for again: its connection ends.
      if (err instanceof RequestBodyTimeoutError) closeAfterAnswer(req, res);
      else discardRest(req, res, limit + DRAIN_SLACK_BYTES);
      inTrace(traceCtx, () => {
        if (!(err instanceof AppError)) logger.error(`proxy failed: ${(err as Error).message}`);
        sendError(req, res, err, logger);
      });
    }
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    upstream: UpstreamPool,
    path: string,
    body: Buffer | NodeJS.ReadableStream | null,
    traceCtx: Context | undefined,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const headers: string[] = [];
    const h = req.headers;
    for (const k in h) {
      const v = h[k];
      if (v === undefined || HOP_BY_HOP.has(k) || SET_HERE.has(k)) continue;
      if (k === 'content-length' && body === null) continue;
      if (typeof v === 'string') headers.push(k, v);
      else for (const one of v) headers.push(k, one);
    }
    // Headers the client's `Connection` names are for that hop only (RFC 9110 §7.6.1).
    const named = typeof h.connection === 'string' ? h.connection.toLowerCase().split(',').map((t) => t.trim()) : [];
    if (named.length) for (let i = headers.length - 2; i >= 0; i -= 2) if (named.includes(headers[i]!)) headers.splice(i, 2);
    const forwardedFor = h['x-forwarded-for'];
    const remote = req.socket.remoteAddress;
    headers.push('x-request-id', h['x-request-id'] as string);
    headers.push('x-forwarded-for', forwardedFor && remote ? `${String(forwardedFor)}, ${remote}` : String(forwardedFor || remote || ''));
    // Host is not forwarded (hop-by-hop above), so the origin the client used travels here: a
    // service that builds public URLs (finance-sync's webhookUrl) points them at the gateway.
    // An ingress in front of the gateway has set them already, and its values win.
    const forwardedHost = h['x-forwarded-host'] || h.host;
    if (forwardedHost !== undefined) headers.push('x-forwarded-host', String(forwardedHost));
    headers.push('x-forwarded-proto', String(h['x-forwarded-proto'] || ((req.socket as TLSSocket).encrypted ? 'https' : 'http')));
    // A client span under this request's server span; its traceparent replaces any the client sent.
    const span = startHttpClientSpan(method, `${upstream.origin}${path}`, traceCtx ? { parent: traceCtx, service } : {});
    for (const k in span.headers) headers.push(k, span.headers[k]!);

    return new Promise<void>((resolve, reject) => {
      // Every connection of the pool busy: answered 503 after PROXY_QUEUE_TIMEOUT_MS rather than
      // queued without end (PROXY_TIMEOUT_MS starts only once the request has a connection).
      const queued = setTimeout(() => {
        handler.expire();
        if (handler.clientGone) {
          span.end();
          return resolve();
        }
        span.end(undefined, new UpstreamUnavailableError());
        logger.warn(`no connection to ${upstream.origin} within ${config.PROXY_QUEUE_TIMEOUT_MS} ms: ${method} ${redactUrl(path)}`);
        reject(new UpstreamUnavailableError());
      }, config.PROXY_QUEUE_TIMEOUT_MS);
      const handler = new Answer(res, (err, status) => {
        clearTimeout(queued);
        if (handler.expired) return;
        if (!err) {
          span.end(status);
          return resolve();
        }
        if (status !== undefined || handler.clientGone) {
          // The answer had begun: the client went away or the upstream broke mid-stream (or sent
          // nothing for PROXY_RESPONSE_IDLE_MS). Or the client hung up before the answer (not the
          // service's failure, so no 502 is logged). Nothing sensible to send: the client's
          // connection ends, so it sees the answer cut short rather than waiting for the rest.
          if (err instanceof undiciErrors.BodyTimeoutError) {
            logger.warn(`answer of ${upstream.origin} sent nothing for ${config.PROXY_RESPONSE_IDLE_MS} ms: ${method} ${redactUrl(path)}`);
          }
          span.end(status);
          res.destroy();
          return resolve();
        }
        span.end(undefined, err);
        reject(inTrace(traceCtx, () => upstreamError(err, handler.writing, method, path)));
      });
      upstream.pool.dispatch({ path, method: method as Dispatcher.HttpMethod, headers, body: body as never }, handler);
      handler.onConnected = () => clearTimeout(queued);
    });
  }

  function upstreamError(err: Error, writing: boolean, method: string, path: string): Error {
    const cause = (err as { cause?: unknown }).cause ?? err;
    // The body's own failures (too large, the client stopped sending) are the client's: 413, 408.
    if (cause instanceof PayloadTooLargeError || cause instanceof RequestBodyTimeoutError) return cause;
    if (err instanceof PayloadTooLargeError || err instanceof RequestBodyTimeoutError) return err;
    // No answer within PROXY_TIMEOUT_MS: 504, and no Retry-After, since it may have been applied.
    if (err instanceof undiciErrors.HeadersTimeoutError) return new UpstreamTimeoutError();
    // sendError logs the answer at warn; the low-level cause only at debug, so one line per request.
    const code = (err as { code?: string }).code;
    logger.debug(`upstream failed ${writing ? 'after' : 'before'} writing ${method} ${redactUrl(path)}: ${err.message}${code ? ` (${code})` : ''}`);
    // Never written to a socket (refused, DNS, connect timeout): surely not delivered, so 503 + Retry-After.
    if (!writing) return new UpstreamUnavailableError();
    // Written, then no answer (reset, closed, died mid-request): it may have been applied.
    // 502 for every method, without Retry-After; the client knows whether repeating is safe.
    return new UpstreamOutcomeUnknownError();
  }

  const middleware = ((req: IncomingMessage, res: ServerResponse) => {
    void proxy(req, res, (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/');
  }) as ProxyHandler;
  middleware.handle = (req, res) => {
    const url = req.url ?? '/';
    o.metrics?.time(res);
    void proxy(req, res, url, startHttpServerSpan(service, req, res, url));
  };
  return middleware;
}

/** `fn` with `ctx` active (the lines it logs carry its trace), or as it is in Express's context. */
const inTrace = <T>(ctx: Context | undefined, fn: () => T): T => (ctx ? context.with(ctx, fn) : fn());

/** `trace_id`/`span_id` of a request handled before Express (no active context for pino's mixin to read). */
function traceFields(ctx: Context | undefined): { trace_id?: string; span_id?: string } {
  const sc = ctx ? trace.getSpanContext(ctx) : undefined;
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/**
 * What is left of a request's body is read and dropped (none left, as for a GET: nothing to do),
 * up to `maxBytes` and DRAIN_MAX_MS; past either, or declared beyond `maxBytes`, the connection
 * ends after the answer instead.
 */
function discardRest(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  // The usual request: nothing left, nothing to do (no promise on the hot path).
  if (!hasUnreadBody(req)) return;
  // Declared over the cap, it is not read at all: an answer not sent yet says so now.
  if (Number(req.headers['content-length'] ?? 0) > maxBytes && !res.headersSent) res.setHeader('connection', 'close');
  void discardBody(req, maxBytes, DRAIN_MAX_MS).then((drained) => drained || closeAfterAnswer(req, res));
}

/**
 * The connection of a body not worth reading to its end: `Connection: close` on an answer not
 * sent yet (Node ends the connection after it), or ended once the answer sent has gone out.
 */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  else if (res.writableFinished) req.socket.destroy();
  else res.once('finish', () => req.socket.destroy());
}

/**
 * A body, whole (at most `maxBytes`, else 413; within `timeoutMs`, else 408; with `idle`, the
 * time allowed between two chunks instead); null if the client went away first, also before
 * this was called (a slow token check, say).
 */
function readWholeBody(req: IncomingMessage, maxBytes: number, timeoutMs: number, idle = false): Promise<Buffer | null> {
  if (req.destroyed || req.readableAborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let seen = 0;
    const onData = (c: Buffer) => {
      seen += c.length;
      if (idle) timer.refresh();
      if (seen <= maxBytes) return void chunks.push(c);
      cleanup();
      reject(bodyTooLarge(maxBytes));
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onGone = () => {
      cleanup();
      resolve(null);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new RequestBodyTimeoutError(timeoutMs, idle));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/**
 * undici's handler for one proxied call, writing the upstream's answer straight into the
 * client's response. `onConnect` (called right before the first byte goes out) draws the line
 * between "surely not delivered" (refused, DNS, connect timeout, no socket: 503) and "maybe
 * delivered" (502): a proxied body streams, and an upstream that dies while reading it may
 * already have acted on what it got.
 */
class Answer implements Dispatcher.DispatchHandler {
  writing = false;
  private status: number | undefined;
  private abort: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private finished = false;

  /** The client went away before the answer was complete. */
  private gone = false;

  get clientGone(): boolean {
    return this.gone;
  }

  /** Answered already (no connection in time): when the pool gets to it, it is dropped unsent. */
  expired = false;

  /** Called once the request has its connection. */
  onConnected: (() => void) | undefined;

  expire(): void {
    this.expired = true;
    this.abort?.(new Error('no connection in time'));
  }

  constructor(
    private readonly res: ServerResponse,
    private readonly done: (err: Error | undefined, status: number | undefined) => void,
  ) {
    // A client that goes away while its answer streams (or while its body is still coming) ends
    // the upstream call too. Before, a download paused on a slow client waited for a 'drain' that
    // never came: its pooled connection and the service's stream were held for good, and ~128
    // cancelled downloads left the upstream's pool with no connection for anyone.
    res.once('close', this.onClose);
  }

  private readonly onClose = () => {
    if (this.finished || this.res.writableFinished) return;
    this.gone = true;
    this.abort?.(new Error('client went away'));
  };

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    if (this.expired) return abort(new Error('no connection in time'));
    this.writing = true;
    this.onConnected?.();
    if (this.gone) abort(new Error('client went away'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // An informational answer (103 Early Hints) is not passed on; the final one follows.
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.resume = resume;
    const res = this.res;
    if (res.destroyed) {
      this.abort?.(new Error('client went away'));
      return false;
    }
    const headers: string[] = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1');
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) continue;
      // The request id is the gateway's (set on the response already); an upstream echoes the same one.
      if (lower === 'x-request-id') continue;
      headers.push(name, rawHeaders[i + 1]!.toString('latin1'));
    }
    try {
      res.statusCode = statusCode;
      for (let i = 0; i < headers.length; i += 2) res.appendHeader(headers[i]!, headers[i + 1]!);
    } catch (err) {
      this.abort?.(err as Error);
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    const res = this.res;
    if (res.destroyed) {
      this.abort?.(new Error('client went away'));
      return false;
    }
    if (res.write(chunk)) return true;
    res.once('drain', this.onDrain);
    return false;
  }

  private readonly onDrain = () => this.resume?.();

  onComplete(): void {
    if (this.finished) return;
    this.finished = true;
    this.res.end();
    this.done(undefined, this.status);
  }

  onError(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.done(err, this.status);
  }
}
