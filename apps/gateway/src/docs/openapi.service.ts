import { Inject, Injectable, Logger } from '@nestjs/common';
import { CONFIG, type GatewayConfig } from '../config';
import { upstreamUrls } from '../proxy/proxy.handler';
import { ROUTES } from '../proxy/routes';

interface OpenApiDoc {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  security?: unknown[];
  tags?: { name: string; description?: string }[];
}

const CACHE_MS = 30_000;
/** How long a document missing a service that did not answer is kept. */
const PARTIAL_CACHE_MS = 2_000;

/**
 * The public OpenAPI document: each service generates its part from its DTOs
 * (`/openapi.json`); the gateway merges them. Routes of a service that is not deployed are
 * listed with their 503 answer, so the document always shows the whole API.
 */
@Injectable()
export class OpenApiService {
  private readonly logger = new Logger(OpenApiService.name);
  private cached: { at: number; doc: OpenApiDoc } | null = null;

  constructor(@Inject(CONFIG) private readonly config: GatewayConfig) {}

  /** One build at a time: concurrent requests share it. */
  private building: Promise<OpenApiDoc> | null = null;

  async document(): Promise<OpenApiDoc> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached.doc;
    this.building ??= this.build().finally(() => (this.building = null));
    return this.building;
  }

  private async build(): Promise<OpenApiDoc> {
    const doc: OpenApiDoc = {
      openapi: '3.0.0',
      info: {
        title: 'Papka API',
        version: '2',
        description: 'Contractors, documents and interactions of a small business, kept in sync with its finance systems. All routes need `Authorization: Bearer <token>`, except the finance webhooks.',
      },
      paths: {},
      components: {
        schemas: {},
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    };
    const urls = upstreamUrls(this.config);
    const fetched = new Set<string>();
    // Configured but not answering now (restarting, say): not the same as not deployed.
    const unreachable = new Set<string>();
    await Promise.all(
      Object.entries(urls).map(async ([name, base]) => {
        if (!base) return;
        let res: Response;
        try {
          res = await fetch(`${base.replace(/(?<!\/)\/+$/, '')}/openapi.json`, { signal: AbortSignal.timeout(3_000) });
        } catch (err) {
          // No answer at all (refused, reset, timed out): down for now.
          unreachable.add(name);
          this.logger.warn(`no OpenAPI from ${name}: ${(err as Error).message}`);
          return;
        }
        try {
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          const part = (await res.json()) as Partial<OpenApiDoc>;
          Object.assign(doc.paths, part.paths ?? {});
          Object.assign(doc.components.schemas, part.components?.schemas ?? {});
          fetched.add(name);
        } catch (err) {
          // It answered, without a document (an older version, say): listed as not available.
          this.logger.warn(`no OpenAPI from ${name}: ${(err as Error).message}`);
        }
      }),
    );
    for (const route of ROUTES) {
      if (fetched.has(route.upstream)) continue;
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      doc.paths[path] ??= {};
      doc.paths[path][route.method.toLowerCase()] = {
        tags: [route.upstream],
        summary: unreachable.has(route.upstream) ? `${route.upstream} (not reachable right now; its full description follows once it answers)` : `${route.upstream} (not available in this deployment yet)`,
        parameters: [...route.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
        responses: { '503': { description: 'The service is not available' } },
      };
    }
    // A public route (the Adesk webhook) needs no bearer token: say so on its operation.
    for (const route of ROUTES.filter((r) => r.public)) {
      const op = doc.paths[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()] as Record<string, unknown> | undefined;
      if (op) op.security = [];
    }
    // A document missing a service that is only down for now is kept briefly (the route is public
    // and unlimited: not a fan-out to every service per request), then asked again.
    this.cached = { at: Date.now() - (unreachable.size === 0 ? 0 : CACHE_MS - PARTIAL_CACHE_MS), doc };
    return doc;
  }
}
