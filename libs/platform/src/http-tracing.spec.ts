import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import pino from 'pino';
import pinoHttp from 'pino-http';
import request from 'supertest';
import { initTracing, traceHeaders, traceLogFields } from '@papka/messaging';
import { startHttpClientSpan, traceHttpRequests } from './http-tracing';

const exported = new InMemorySpanExporter();
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('HTTP tracing', () => {
  const lines: Record<string, unknown>[] = [];
  const app = express();

  beforeAll(() => {
    initTracing('things', {}, { spanProcessors: [new SimpleSpanProcessor(exported)] });
    app.use(traceHttpRequests('things'));
    // As loggerModule logs: pino-http after the span middleware, with the trace fields mixed in.
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString())), cb()) });
    app.use(pinoHttp({ logger: pino({ mixin: traceLogFields }, sink) }));
    app.get('/things/:id', (_req, res) => {
      const call = startHttpClientSpan('GET', 'http://upstream/x?secret=1');
      call.end(200);
      res.setHeader('x-request-id', 'req-7');
      res.json({ onward: call.headers, here: traceHeaders() });
    });
    app.get('/health/live', (_req, res) => res.json({ here: traceHeaders() }));
  });
  beforeEach(() => {
    exported.reset();
    lines.length = 0;
  });

  it("makes a server span per request, child of the caller's traceparent, named by route template, with the request id", async () => {
    const res = await request(app).get('/things/42').set('traceparent', `00-${TRACE}-${CALLER_SPAN}-01`).expect(200);
    const spans = exported.getFinishedSpans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.name).toBe('GET /things/:id');
    expect(server.spanContext().traceId).toBe(TRACE);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server.attributes).toMatchObject({ 'http.route': '/things/:id', 'http.response.status_code': 200, 'papka.request_id': 'req-7' });
    expect(server.resource.attributes['service.name']).toBe('papka-things');
    // The client span is the server span's child, and its traceparent is what a call sends on.
    const client = spans.find((s) => s.kind === SpanKind.CLIENT)!;
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(client.attributes['url.full']).toBe('http://upstream/x');
    expect(res.body.onward.traceparent).toBe(`00-${TRACE}-${client.spanContext().spanId}-01`);
    expect(res.body.here.traceparent).toBe(`00-${TRACE}-${server.spanContext().spanId}-01`);
  });

  it('starts a new trace without a traceparent, and the request log line carries its ids', async () => {
    await request(app).get('/things/1').expect(200);
    const server = exported.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.spanContext().traceId).not.toBe(TRACE);
    const line = lines.find((l) => l.msg === 'request completed')!;
    expect(line).toMatchObject({ trace_id: server.spanContext().traceId, span_id: server.spanContext().spanId });
  });

  it('makes no span for probes', async () => {
    const res = await request(app).get('/health/live').expect(200);
    expect(res.body.here).toEqual({});
    expect(exported.getFinishedSpans()).toEqual([]);
  });
});
