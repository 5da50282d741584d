import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  apiClient,
  createTestDatabase,
  dropDatabase,
  eventually,
  s3Env,
  serviceEnv,
  startService,
  testToken,
  type RunningService,
} from '@papka/testing';

/** One span as the OTLP/HTTP JSON exporter sends it, with the service that sent it. */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: Record<string, unknown> }[] };
    scopeSpans?: { spans?: (Omit<ExportedSpan, 'service' | 'attributes'> & { attributes?: { key: string; value: Record<string, unknown> }[] })[] }[];
  }[];
}

/** OTLP span kinds on the wire (the API's SpanKind + 1). */
const Kind = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

const attrs = (list: { key: string; value: Record<string, unknown> }[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));

/** A stand-in OpenTelemetry collector: OTLP/HTTP JSON on POST /v1/traces, kept in memory. */
async function startCollector(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const body = JSON.parse(raw.toString('utf8')) as OtlpJson;
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service, attributes: attrs(s.attributes) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

/**
 * One trace from the gateway through contractors and, across Kafka, into a consumer in
 * documents, each service in its own process exporting to an OTLP collector as in production.
 */
describe('OpenTelemetry traces (gateway -> contractors -> Kafka -> documents)', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const dbs: string[] = [];
  const services: Record<string, RunningService> = {};

  beforeAll(async () => {
    collector = await startCollector();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '200' };
    const [contractorsDb, documentsDb] = [await createTestDatabase('trace_contractors'), await createTestDatabase('trace_documents')];
    dbs.push(contractorsDb, documentsDb);
    services.contractors = await startService('contractors', serviceEnv({ ...otel, DATABASE_URL: contractorsDb, LOG_LEVEL: 'info' }));
    services.documents = await startService('documents', serviceEnv({ ...otel, DATABASE_URL: documentsDb, ...s3Env(), RENDER_ENABLED: 'false' }));
    services.gateway = await startService('gateway', serviceEnv({
      ...otel,
      CONTRACTORS_URL: services.contractors.url,
      DOCUMENTS_URL: services.documents.url,
      RATE_LIMIT_POINTS: '10000',
    }));
  });

  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await new Promise((r) => collector?.server.close(r));
    for (const db of dbs) await dropDatabase(db);
  });

  it('shows one trace: gateway server and client spans, the contractors server and producer spans, the documents consumer span', async () => {
    const api = apiClient(services.gateway!.url, await testToken('trace-acc'));
    const created = await api<{ uuid: string }>('POST', '/v2/docs/contractors', { type: 3, name: 'Иванов Иван' });
    expect(created.status).toBe(201);
    const requestId = created.headers.get('x-request-id');

    const find = (service: string, kind: number, where: (s: ExportedSpan) => boolean = () => true) =>
      collector.spans.find((s) => s.service === service && s.kind === kind && where(s));
    const gatewayServer = await eventually(async () => find('papka-gateway', Kind.server, (s) => s.name === 'POST /v2/docs/contractors'), 20_000);
    const traceId = gatewayServer.traceId;
    const inTrace = (s: ExportedSpan) => s.traceId === traceId;

    const gatewayClient = await eventually(async () => find('papka-gateway', Kind.client, inTrace), 20_000);
    expect(gatewayClient.parentSpanId).toBe(gatewayServer.spanId);
    const contractorsServer = await eventually(async () => find('papka-contractors', Kind.server, inTrace), 20_000);
    expect(contractorsServer).toMatchObject({ name: 'POST /v2/docs/contractors', parentSpanId: gatewayClient.spanId });
    expect(contractorsServer.attributes).toMatchObject({ 'http.response.status_code': 201, 'papka.request_id': requestId });
    const producer = await eventually(async () => find('papka-contractors', Kind.producer, inTrace), 20_000);
    expect(producer.parentSpanId).toBe(contractorsServer.spanId);
    expect(producer.attributes).toMatchObject({ 'messaging.destination.name': 'papka.contractors.v1', 'papka.event.type': 'contractor.created' });

    // Across Kafka: the record's traceparent makes the documents consumer span the producer's child.
    const consumer = await eventually(async () => find('papka-documents', Kind.consumer, inTrace), 60_000);
    expect(consumer.parentSpanId).toBe(producer.spanId);
    expect(consumer.attributes).toMatchObject({
      'messaging.consumer.group.name': 'documents',
      'messaging.message.id': producer.attributes['messaging.message.id'],
      'papka.event.type': 'contractor.created',
      'papka.trace_id': traceId, // the envelope's traceId is the W3C trace id
    });

    // Every span of the trace came from one of the three services, under one trace id.
    expect(new Set(collector.spans.filter(inTrace).map((s) => s.service))).toEqual(new Set(['papka-gateway', 'papka-contractors', 'papka-documents']));

    // The log line of the contractors request carries the trace id.
    const line = await eventually(async () =>
      readFileSync(services.contractors!.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'request completed' && (l.req as { url?: string } | undefined)?.url === '/v2/docs/contractors'),
    );
    expect(line).toMatchObject({ trace_id: traceId, span_id: contractorsServer.spanId });
  });
});
