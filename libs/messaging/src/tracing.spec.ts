import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { EntityManager } from 'typeorm';
import { defineEvent, type EventEnvelope } from '@papka/contracts';
import { writeToOutbox } from './outbox/outbox.writer';
import { currentTraceId, runWithTrace } from './trace';
import { initTracing, otlpTracesUrl, traceHeaders, tracerFor, withConsumerSpan } from './tracing';

const exported = new InMemorySpanExporter();
const Thing = defineEvent<{ n: number }, 'thing.changed'>('thing.changed', 1, 'papka.things.v1');

/** An EntityManager in a transaction that records the outbox insert's parameters. */
function fakeManager() {
  const calls: unknown[][] = [];
  const manager = {
    queryRunner: { isTransactionActive: true },
    query: async (_sql: string, params: unknown[]) => (calls.push(params), [{ sequence: 1 }]),
  } as unknown as EntityManager;
  return { manager, headers: () => JSON.parse(calls.at(-1)![5] as string) as Record<string, string> };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('tracing', () => {
  beforeAll(() => {
    expect(initTracing('producer', {}, { spanProcessors: [new SimpleSpanProcessor(exported)] })).toBe(false);
    initTracing('documents', {}, { spanProcessors: [new SimpleSpanProcessor(exported)] });
    initTracing('quiet', {}); // no exporter, no processor: spans are made only to propagate
  });
  beforeEach(() => exported.reset());

  it('exports only when OTEL_EXPORTER_OTLP_ENDPOINT (or the traces endpoint) is set', () => {
    expect(otlpTracesUrl({})).toBeUndefined();
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/custom' })).toBe('http://c:4318/custom');
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  });

  it('stores the traceparent of a producer span in the outbox headers; the envelope carries its trace id', async () => {
    const server = tracerFor('producer').startSpan('POST /things', { kind: SpanKind.SERVER });
    const { manager, headers } = fakeManager();
    const envelope = await runWithTrace('request-1', () =>
      context.with(trace.setSpan(context.active(), server), () => writeToOutbox(manager, Thing, { accountId: 'a', aggregateId: 'x', data: { n: 1 } })),
    );
    const traceId = server.spanContext().traceId;
    expect(envelope.traceId).toBe(traceId);
    const [, headerTrace, producerSpanId] = TRACEPARENT.exec(headers().traceparent ?? '') ?? [];
    expect(headerTrace).toBe(traceId);
    expect(headers()['trace-id']).toBe(traceId);
    const producer = exported.getFinishedSpans().find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(producer.spanContext().spanId).toBe(producerSpanId);
    expect(producer.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(producer.attributes['messaging.destination.name']).toBe('papka.things.v1');
  });

  it('writes no trace headers outside a span, and keeps the request id as traceId', async () => {
    const { manager, headers } = fakeManager();
    const envelope = await runWithTrace('request-2', () => writeToOutbox(manager, Thing, { accountId: 'a', aggregateId: 'x', data: { n: 2 } }));
    expect(envelope.traceId).toBe('request-2');
    expect(headers().traceparent).toBeUndefined();
    expect(exported.getFinishedSpans()).toEqual([]);
  });

  const envelope = (traceId: string): EventEnvelope => ({
    id: 'e-1', type: 'thing.changed', version: 1, occurredAt: new Date().toISOString(), accountId: 'a', aggregateId: 'x', traceId, data: {},
  });

  it('runs a handler in a consumer span, child of the record traceparent, made by the group\'s service', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const record = { topic: 'papka.things.v1', partition: 2, headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } };
    const [inside, requestTrace] = await withConsumerSpan(record, 'documents-renderer', envelope(traceId), async () => [trace.getActiveSpan()!.spanContext(), currentTraceId()] as const);
    expect(inside.traceId).toBe(traceId);
    expect(requestTrace).toBe(traceId); // what runWithTrace gave the handler before tracing
    const [span] = exported.getFinishedSpans();
    expect(span).toMatchObject({ name: 'papka.things.v1 process', kind: SpanKind.CONSUMER });
    expect(span!.spanContext().spanId).toBe(inside.spanId);
    expect(span!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span!.resource.attributes['service.name']).toBe('papka-documents');
    expect(span!.attributes).toMatchObject({ 'messaging.consumer.group.name': 'documents-renderer', 'papka.trace_id': traceId });
  });

  it('marks the consumer span failed and rethrows when the handler throws', async () => {
    const record = { topic: 't', partition: 0, headers: {} };
    await expect(withConsumerSpan(record, 'documents', envelope('t'), async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(exported.getFinishedSpans()[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
  });

  it('passes the trace on with its own span id where nothing is exported', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const record = { topic: 't', partition: 0, headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } };
    const onward = await withConsumerSpan(record, 'quiet', envelope(traceId), async () => traceHeaders());
    const [, id, spanId] = TRACEPARENT.exec(onward.traceparent ?? '') ?? [];
    expect(id).toBe(traceId);
    expect(spanId).not.toBe('b7ad6b7169203331');
    expect(exported.getFinishedSpans()).toEqual([]); // 'quiet' has no processor: nothing recorded anywhere
  });
});
