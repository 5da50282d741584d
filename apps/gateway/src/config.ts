import { z } from 'zod';
import { baseEnvSchema, loadConfig, portSchema } from '@papka/platform';

const optionalUrl = z.string().url().optional();

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
});

export type GatewayConfig = z.infer<typeof gatewayEnvSchema>;
export const CONFIG = Symbol('GATEWAY_CONFIG');

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(gatewayEnvSchema, env);
