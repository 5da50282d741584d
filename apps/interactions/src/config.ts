import { z } from 'zod';
import { baseEnvSchema, dataEnvSchema, loadConfig, portSchema, storageEnvSchema } from '@papka/platform';

export const interactionsEnvSchema = baseEnvSchema
  .merge(dataEnvSchema)
  .merge(storageEnvSchema)
  .merge(portSchema(3003))
  .extend({
    HOST: z.string().default('0.0.0.0'),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
    /**
     * A contractor or document created a moment ago may not have reached the read models yet:
     * a create/attach that misses waits up to this long for it before answering 404.
     */
    REPLICA_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(3_000),
  });

export type InteractionsConfig = z.infer<typeof interactionsEnvSchema>;
export const CONFIG = Symbol('INTERACTIONS_CONFIG');
export const loadInteractionsConfig = (env: NodeJS.ProcessEnv = process.env): InteractionsConfig => loadConfig(interactionsEnvSchema, env);
