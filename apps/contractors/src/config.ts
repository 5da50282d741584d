import { z } from 'zod';
import { baseEnvSchema, dataEnvSchema, loadConfig, portSchema } from '@papka/platform';

export const contractorsEnvSchema = baseEnvSchema
  .merge(dataEnvSchema)
  .merge(portSchema(3001))
  .extend({
    HOST: z.string().default('0.0.0.0'),
    /** DaData-compatible suggestions API (findById/party, findById/bank). */
    DADATA_API_URL: z.string().url().default('https://suggestions.dadata.ru/suggestions/api/4_1/rs'),
    /** Without a key, findOrg/findBank answer 503 and contractors are created without fullInfo. */
    DADATA_API_KEY: z.string().optional(),
    DADATA_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
    DADATA_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(30 * 86_400).default(86_400),
    /** How often pending look-ups (provider was down) are retried. */
    ENRICH_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  });

export type ContractorsConfig = z.infer<typeof contractorsEnvSchema>;

export const CONFIG = Symbol('CONTRACTORS_CONFIG');

export const loadContractorsConfig = (env: NodeJS.ProcessEnv = process.env): ContractorsConfig =>
  loadConfig(contractorsEnvSchema, env);
