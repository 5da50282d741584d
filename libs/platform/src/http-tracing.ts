import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import { contextWithSpan, extractTraceContext, initTracing, propagatedContext, traceHeaders, tracerFor, tracingRecords, tracingService } from '@papka/messaging';
import { routeTemplate } from './metrics';
import { redactUrl } from './redact-url';

const noop = () => undefined;

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
  // Nothing records (no exporter): continue the caller's trace under this hop's span id, so
  // traceparent goes on and log lines carry the trace, and make no span (tracing.ts).
  if (!tracingRecords(service)) {
    return (req: Request, _res: Response, next: NextFunction): void => {
      const url = req.originalUrl ?? req.url ?? '';
      if (untraced(url)) return next();
      context.with(propagatedContext(extractTraceContext(req.headers), service), next);
    };
  }
  return (req: Request, res: Response, next: NextFunction): void => {
    const url = req.originalUrl ?? req.url ?? '';
    if (untraced(url)) return next();
    const parent = extractTraceContext(req.headers);
    const span = tracerFor(service).startSpan(
      req.method,
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
      const route = routeTemplate(req, res);
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
    context.with(contextWithSpan(parent, span, service), next);
  };
}

/**
 * A CLIENT span for a call this service makes to `url`, under the active span; `headers` are
 * its `traceparent`/`tracestate`, to send with the call (replacing any the caller got).
 */
export function startHttpClientSpan(method: string, url: string): { headers: Record<string, string>; end: (status?: number, err?: unknown) => void } {
  const service = tracingService();
  if (service === undefined || !tracingRecords(service)) return { headers: traceHeaders(propagatedContext(context.active())), end: noop };
  const span = tracerFor().startSpan(method, {
    kind: SpanKind.CLIENT,
    attributes: { 'http.request.method': method, 'url.full': redactUrl(url.split('?')[0]) },
  });
  let ended = false;
  return {
    headers: traceHeaders(trace.setSpan(context.active(), span)),
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
