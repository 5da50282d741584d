import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import { contextWithSpan, extractTraceContext, initTracing, propagatedContext, traceHeaders, tracerFor, tracingRecords, tracingService } from '@papka/messaging';
import { routeTemplate } from './metrics';
import { redactUrl } from './redact-url';

const noop = () => undefined;

/** Services startHttpServerSpan has set up tracing for (once each; it reads the environment). */
const initialised = new Set<string>();

/** Probes and scrapes: no span (a trace every few seconds per pod says nothing). */
const untraced = (url: string) => url.startsWith('/health') || url.startsWith('/metrics');

/**
 * A SERVER span per request of `service` (`papka-<service>`), child of the caller's
 * `traceparent`, active while the request is handled (so events written and log lines carry
 * its trace). Named `<METHOD> <route template>` once the route is known; the request id
 * (`x-request-id`) is an attribute, so either finds the other.
 */
export function traceHttpRequests(service: string) {
  initTracing(service);
  return (req: Request, res: Response, next: NextFunction): void => {
    const url = req.originalUrl ?? req.url ?? '';
    if (untraced(url)) return next();
    context.with(startHttpServerSpan(service, req, res, url), next);
  };
}

/**
 * The context of one request's SERVER span of `service` (see traceHttpRequests), for a handler
 * that runs before Express (the gateway's proxy): the span ends with the response. Nothing
 * records (no exporter): the caller's trace continued under this hop's span id, and no span
 * is made (tracing.ts). `url` is the request target as received.
 */
export function startHttpServerSpan(service: string, req: IncomingMessage, res: ServerResponse, url: string): Context {
  if (!initialised.has(service)) {
    initTracing(service);
    initialised.add(service);
  }
  const parent = extractTraceContext(req.headers);
  if (!tracingRecords(service)) return propagatedContext(parent, service);
  const span = tracerFor(service).startSpan(
    req.method ?? 'GET',
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'url.path': redactUrl(url.split('?')[0]), 'url.scheme': 'http' },
    },
    parent,
  );
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    const route = routeTemplate(req as Request, res as Response);
    span.updateName(`${req.method} ${route}`);
    span.setAttribute('http.route', route);
    const requestId = res.getHeader('x-request-id') ?? req.headers['x-request-id'];
    if (requestId !== undefined) span.setAttribute('papka.request_id', String(requestId));
    if (res.writableFinished) {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } else {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted' });
    }
    span.end();
  };
  res.once('finish', end);
  res.once('close', end);
  return contextWithSpan(parent, span, service);
}

/**
 * A CLIENT span for a call this service makes to `url`, under the active span; `headers` are
 * its `traceparent`/`tracestate`, to send with the call (replacing any the caller got). A
 * request handled outside the active context (the gateway's proxy, before Express) names its
 * own: `parent` (from startHttpServerSpan) and the `service` whose span it is.
 */
export function startHttpClientSpan(
  method: string,
  url: string,
  o: { parent?: Context; service?: string } = {},
): { headers: Record<string, string>; end: (status?: number, err?: unknown) => void } {
  const parent = o.parent ?? context.active();
  const service = tracingService(o.service);
  if (service === undefined || !tracingRecords(service)) return { headers: traceHeaders(propagatedContext(parent)), end: noop };
  const span = tracerFor(service).startSpan(
    method,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': method, 'url.full': redactUrl(url.split('?')[0]) },
    },
    parent,
  );
  let ended = false;
  return {
    headers: traceHeaders(trace.setSpan(parent, span)),
    end: (status, err) => {
      if (ended) return;
      ended = true;
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (err !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      else if (status !== undefined && status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
