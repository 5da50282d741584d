import { z } from 'zod';
import { baseEnvSchema, loadConfig, portSchema } from '@papka/platform';

/** An upstream base URL: http(s), with no query or fragment (the gateway appends the request's path and query to it). */
const parsed = (v: string): URL | null => (URL.canParse(v) ? new URL(v) : null);
const optionalUrl = z
  .string()
  .url()
  // (Zod runs these after a failed url() too: a value that does not parse is url()'s to report.)
  .refine((v) => !parsed(v) || /^https?:$/.test(parsed(v)!.protocol), 'must be an http:// or https:// URL')
  .refine((v) => !parsed(v) || (!parsed(v)!.search && !parsed(v)!.hash), 'must have no query string or fragment')
  .optional();

export const gatewayEnvSchema = baseEnvSchema.merge(portSchema(3000)).extend({
  HOST: z.string().default('0.0.0.0'),
  /** Upstream base URLs. Unset: that service's routes answer 503. */
  CONTRACTORS_URL: optionalUrl,
  DOCUMENTS_URL: optionalUrl,
  INTERACTIONS_URL: optionalUrl,
  FINANCE_SYNC_URL: optionalUrl,
  /** Requests per window per token. */
  RATE_LIMIT_POINTS: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(1),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  UPLOAD_LIMIT_BYTES: z.coerce.number().int().min(1024).default(25 * 1024 * 1024),
  /** Upstream must send response headers within this time. */
  PROXY_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /**
   * A request that has no connection to its service within this time (all of the pool's are
   * busy) is answered 503 with Retry-After instead of waiting in the pool's queue.
   */
  PROXY_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /** Connections to each service, at most. */
  PROXY_CONNECTIONS: z.coerce.number().int().min(1).default(128),
  /** A public route's body (no token: Adesk's webhook) must have arrived whole within this time, else 408, before it takes a connection. */
  PUBLIC_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * A request body (token routes) that sends nothing for this long, while the gateway is ready
   * to take more, is cut: 408, the call to the service aborted, the connection closed.
   */
  PROXY_BODY_IDLE_MS: z.coerce.number().int().min(100).default(30_000),
  /** A service's answer body that sends nothing for this long is cut (undici's `bodyTimeout`, an idle time between chunks). */
  PROXY_RESPONSE_IDLE_MS: z.coerce.number().int().min(100).default(60_000),
  /**
   * Proxies in front of the gateway whose `X-Forwarded-For` entry is trusted (Express's
   * `trust proxy` hop count): the client address that keys a public route's rate limit is the
   * one this many hops back. 0: the socket's peer, and the header is ignored.
   */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
});

export type GatewayConfig = z.infer<typeof gatewayEnvSchema>;
export const CONFIG = Symbol('GATEWAY_CONFIG');

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(gatewayEnvSchema, env);
