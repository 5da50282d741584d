import { trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import express from 'express';
import request from 'supertest';
import type { EventEnvelope } from '@papka/contracts';
import { outboxTraceHeaders, traceHeaders, tracerFor, withConsumerSpan } from '@papka/messaging';
import { startHttpClientSpan, traceHttpRequests } from './http-tracing';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

/**
 * A process with no exporter configured (no OTEL_EXPORTER_OTLP_ENDPOINT / *_TRACES_ENDPOINT)
 * records no span at all (an SDK span per request and per event cost a third of the request
 * rate), yet the trace goes on: traceparent in, traceparent out over HTTP and into records.
 */
describe('tracing without an exporter', () => {
  const getTracer = jest.spyOn(NodeTracerProvider.prototype, 'getTracer');
  const seen: { recording: boolean }[] = [];
  const app = express();

  beforeAll(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];
    app.use(traceHttpRequests('plain'));
    app.get('/things/:id', (_req, res) => {
      const active = trace.getActiveSpan();
      seen.push({ recording: active?.isRecording() ?? true });
      const call = startHttpClientSpan('GET', 'http://upstream/x');
      call.end(200);
      const made = tracerFor().startSpan('anything');
      seen.push({ recording: made.isRecording() });
      made.end();
      res.json({ onward: call.headers, here: traceHeaders(), outbox: outboxTraceHeaders('thing.changed', 'papka.things.v1', 'e-1') });
    });
  });

  it('continues the caller\'s trace over HTTP and into outbox headers, with no recording span anywhere', async () => {
    const res = await request(app).get('/things/42').set('traceparent', `00-${TRACE}-${CALLER_SPAN}-01`).expect(200);
    const body = res.body as Record<'onward' | 'here' | 'outbox', { traceparent?: string }>;
    for (const where of ['onward', 'here', 'outbox'] as const) {
      const [, traceId, spanId] = TRACEPARENT.exec(body[where].traceparent ?? '') ?? [];
      expect(traceId).toBe(TRACE);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(spanId).not.toBe(CALLER_SPAN); // this hop's own span id
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((s) => s.recording)).toEqual([]);
    expect(getTracer).not.toHaveBeenCalled();
  });

  it('starts a trace where the caller sent none', async () => {
    const res = await request(app).get('/things/1').expect(200);
    const [, traceId] = TRACEPARENT.exec((res.body as { here: { traceparent?: string } }).here.traceparent ?? '') ?? [];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe(TRACE);
  });

  it('runs a consumed event under the record\'s trace without recording a span', async () => {
    const envelope: EventEnvelope = { id: 'e-1', type: 'thing.changed', version: 1, occurredAt: new Date().toISOString(), accountId: 'a', aggregateId: 'x', traceId: TRACE, data: {} };
    const record = { topic: 'papka.things.v1', partition: 0, headers: { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` } };
    const inside = await withConsumerSpan(record, 'plain-worker', envelope, async () => ({ recording: trace.getActiveSpan()?.isRecording(), headers: traceHeaders() }));
    expect(inside.recording).toBe(false);
    expect(TRACEPARENT.exec(inside.headers.traceparent ?? '')?.[1]).toBe(TRACE);
    expect(getTracer).not.toHaveBeenCalled();
  });
});

