/**
 * OpenTelemetry traces: W3C `traceparent` over HTTP and in Kafka record headers, and the spans
 * the messaging layer makes (an outbox write, a consumed event).
 *
 * Two modes per service (`papka-<service>`):
 * - **recording**, when an exporter is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or a test passes span processors: an SDK tracer
 *   provider makes real spans, batched to OTLP/HTTP;
 * - **propagating only**, otherwise: no SDK span is made (no provider, no span objects, no
 *   attributes). The context still flows: a request or record continues the caller's trace id
 *   under a fresh span id of this hop (a non-recording span), so `traceparent` goes on to the
 *   next service and into outbox headers, and log lines and envelopes carry the trace id.
 */
import {
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
  TraceFlags,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { EventEnvelope } from '@papka/contracts';
import { randomFillSync } from 'node:crypto';
import { runWithTrace } from './trace';

/** Each service set up: its SDK provider when it records spans, null when it only propagates. */
const providers = new Map<string, NodeTracerProvider | null>();
/** The service whose provider makes the spans of this context (several share a process in the embedded mode). */
const SERVICE = createContextKey('papka.service');
const TRACER = '@papka/messaging';
let registered = false;

/** The OTLP/HTTP traces URL from the environment, or undefined: then nothing is exported. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/(?<!\/)\/+$/, '')}/v1/traces` : undefined;
}

export interface TracingOptions {
  /** Extra processors (tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

/**
 * Sets up tracing for `service` (once per name): its provider, and on the first call the
 * process-wide AsyncLocalStorage context manager and W3C trace-context propagator. Returns
 * whether spans are exported.
 */
export function initTracing(service: string, env: NodeJS.ProcessEnv = process.env, o: TracingOptions = {}): boolean {
  const url = otlpTracesUrl(env);
  if (providers.has(service)) return url !== undefined;
  const processors = [...(url ? [new BatchSpanProcessor(new OTLPTraceExporter({ url }))] : []), ...(o.spanProcessors ?? [])];
  const provider =
    processors.length === 0 ? null : new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': `papka-${service}` }), spanProcessors: processors });
  if (!registered) {
    // The global context manager (AsyncLocalStorage) and W3C propagator, once per process. A
    // propagating-only service registers a provider without processors: it makes no spans
    // (tracerFor never hands out its tracer), it only installs those two.
    (provider ?? new NodeTracerProvider()).register();
    registered = true;
  }
  providers.set(service, provider);
  return url !== undefined;
}

/** Whether `service` records spans (an exporter or a test's processor); false: it only propagates context. */
export const tracingRecords = (service: string): boolean => Boolean(providers.get(service));

/** Exports what is still buffered and stops `service`'s provider (at shutdown), waiting at most `timeoutMs`. */
export async function shutdownTracing(service: string, timeoutMs = 2_000): Promise<void> {
  const provider = providers.get(service);
  providers.delete(service);
  if (!provider) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([provider.shutdown().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, timeoutMs).unref()))]);
  clearTimeout(timer);
}

/**
 * The service whose provider makes a span: `hint` (a service, or a consumer group named after
 * it: `documents-renderer`) when one matches; else the service of the active context; else the
 * first set up (one per process, except in the embedded mode).
 */
export function tracingService(hint?: string): string | undefined {
  if (hint) {
    if (providers.has(hint)) return hint;
    const named = [...providers.keys()].find((name) => hint.startsWith(`${name}-`) || hint.startsWith(`${name}.`));
    if (named) return named;
  }
  const inContext = context.active().getValue(SERVICE) as string | undefined;
  if (inContext && providers.has(inContext)) return inContext;
  return providers.keys().next().value;
}

/** The tracer of that service; the propagating-only tracer when it records nothing; the API's no-op tracer when tracing was never set up. */
export function tracerFor(hint?: string): Tracer {
  const service = tracingService(hint);
  if (service === undefined) return trace.getTracer(TRACER);
  return providers.get(service)?.getTracer(TRACER) ?? propagatingTracer;
}

/** Random ids from a pool filled 4 KiB at a time (one syscall per 170 spans, not one per id). */
const idPool = Buffer.alloc(4096);
let idOffset = idPool.length;
function randomHex(bytes: number): string {
  if (idOffset + bytes > idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const hex = idPool.toString('hex', idOffset, (idOffset += bytes));
  // All zeros is the W3C "invalid" id: never hand it out.
  return /^0+$/.test(hex) ? randomHex(bytes) : hex;
}

/**
 * The context of this hop where nothing records: the parent's trace id (a new one at the root),
 * its sampled flag (sampled at the root, as the SDK's default sampler decides) and a new span id.
 */
export function propagatedSpanContext(parent: Context): SpanContext {
  const sc = trace.getSpanContext(parent);
  const valid = sc !== undefined && isSpanContextValid(sc);
  return {
    traceId: valid ? sc.traceId : randomHex(16),
    spanId: randomHex(8),
    traceFlags: valid ? sc.traceFlags : TraceFlags.SAMPLED,
    traceState: valid ? sc.traceState : undefined,
  };
}

/** `parent` with this hop's non-recording span active (see propagatedSpanContext). */
export const propagatedContext = (parent: Context, service?: string): Context =>
  contextWithSpan(parent, trace.wrapSpanContext(propagatedSpanContext(parent)), service);

/** A tracer whose spans are non-recording: ids for propagation, nothing kept. */
const propagatingTracer: Tracer = {
  startSpan: (_name: string, _options?: SpanOptions, ctx: Context = context.active()) => trace.wrapSpanContext(propagatedSpanContext(ctx)),
  startActiveSpan: ((name: string, ...args: unknown[]) => {
    const fn = args.pop() as (span: Span) => unknown;
    const [options, ctx = context.active()] = args as [SpanOptions | undefined, Context | undefined];
    const span = propagatingTracer.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), fn, undefined, span);
  }) as Tracer['startActiveSpan'],
};

/** `ctx` with `span` active and `service` as the one whose provider makes the spans under it. */
export const contextWithSpan = (ctx: Context, span: Span, service?: string): Context =>
  service ? trace.setSpan(ctx, span).setValue(SERVICE, service) : trace.setSpan(ctx, span);

/** The W3C trace id (32 hex) of the active span, if there is a valid one. */
export function activeTraceId(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** `trace_id` and `span_id` of the active span for a log line (pino `mixin`), or nothing. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/** `traceparent` (and `tracestate`) of `ctx`, for HTTP or record headers. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a `traceparent`/`tracestate` pair names (root when there is none or it is malformed). */
export const extractTraceContext = (headers: Record<string, string | string[] | undefined>): Context =>
  propagation.extract(ROOT_CONTEXT, headers);

/**
 * The tracing headers of an event written to the outbox now: a PRODUCER span (ended at once;
 * the relay publishes later) under the active span, whose context the consumer continues.
 * Nothing outside a trace (a start-up announce is no request), so no orphan trace per row.
 */
export function outboxTraceHeaders(type: string, topic: string, eventId: string): Record<string, string> {
  if (!activeTraceId()) return {};
  const service = tracingService();
  if (service === undefined || !tracingRecords(service)) return traceHeaders(propagatedContext(context.active()));
  const span = tracerFor(service).startSpan(`${topic} publish`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'create',
      'messaging.destination.name': topic,
      'messaging.message.id': eventId,
      'papka.event.type': type,
    },
  });
  span.end();
  return traceHeaders(trace.setSpan(context.active(), span));
}

interface ConsumedRecord {
  topic: string;
  partition: number;
  headers: Record<string, string | undefined>;
}

/**
 * Runs a handler of a consumed event in a CONSUMER span, child of the producer's context from
 * the record's `traceparent` (so the trace id is the envelope's `traceId`; the envelope's
 * `traceId` is an attribute too: an older producer's is a request id), and with the envelope's
 * `traceId` (else its id) as the trace id of the events it emits where no span is active.
 */
export async function withConsumerSpan<T>(record: ConsumedRecord, group: string, envelope: EventEnvelope, fn: () => Promise<T>): Promise<T> {
  const parent = extractTraceContext(record.headers);
  const service = tracingService(group);
  const run = () => runWithTrace(envelope.traceId || envelope.id, fn);
  if (service === undefined || !tracingRecords(service)) return context.with(propagatedContext(parent, service), run);
  const attributes: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': record.topic,
    'messaging.destination.partition.id': String(record.partition),
    'messaging.consumer.group.name': group,
    'messaging.message.id': envelope.id,
    'papka.event.type': envelope.type,
    'papka.trace_id': envelope.traceId,
  };
  const span = tracerFor(service).startSpan(`${record.topic} process`, { kind: SpanKind.CONSUMER, attributes }, parent);
  try {
    return await context.with(contextWithSpan(parent, span, service), run);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
