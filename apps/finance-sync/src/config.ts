import { z } from 'zod';
import { baseEnvSchema, ConfigError, dataEnvSchema, envBoolean, loadConfig, portSchema, storageEnvSchema } from '@papka/platform';

/** Comma-separated milliseconds, e.g. `0,5000,300000`. */
const msList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const list = s.split(',').map((x) => Number(x.trim()));
      if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 0)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be comma-separated non-negative integers (milliseconds)' });
        return z.NEVER;
      }
      return list;
    });

/** Adesk's own redelivery schedule (002 L4362): at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const ADESK_SCHEDULE = '0,5000,300000,1800000,7200000,18000000,36000000,36000000';

/**
 * Development-only key (`dev:` + 32 bytes): tokens stored in embedded mode are readable by
 * anyone with the repository, so production refuses it (loadFinanceSyncConfig).
 */
export const DEV_ENCRYPTION_KEY = 'dev:cGFwa2EtZmluYW5jZS1kZXZlbG9wbWVudC1rZXkhISE=';

export const financeSyncEnvSchema = baseEnvSchema
  .merge(dataEnvSchema)
  .merge(storageEnvSchema)
  .merge(portSchema(3004))
  .extend({
    HOST: z.string().default('0.0.0.0'),
    /** Webhook bodies and the API's JSON; an Adesk delivery is a handful of objects. */
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(256 * 1024),
    ADESK_API_URL: z.string().url().default('https://api.adesk.ru'),
    /**
     * `<keyId>:<base64 of 32 bytes>[,<keyId>:<base64>...]`: the first encrypts, all decrypt
     * (rotation). Required in production; a development key otherwise.
     */
    FINANCE_ENCRYPTION_KEY: z.string().default(DEV_ENCRYPTION_KEY),
    /** Delay before attempt n+1 of a record whose call failed; when it runs out the record is `failed`. */
    FINANCE_RETRY_SCHEDULE: msList(ADESK_SCHEDULE),
    /** How often a paused connection (payment required, unauthorized) is probed. */
    FINANCE_PAUSE_PROBE_MS: z.coerce.number().int().min(10).default(60_000),
    /** Wait after the target was unreachable (not a failed attempt of the record). */
    FINANCE_UNAVAILABLE_RETRY_MS: z.coerce.number().int().min(10).default(5_000),
    /** Back-off steps of a method blocked by 429: at most one probe per step, the last repeats. */
    FINANCE_RATE_BACKOFF_MS: msList('1000,5000,30000,60000,300000'),
    FINANCE_WORKER: envBoolean(true),
    FINANCE_WORKER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
    /** Records one worker claims per connection per round (held by a lease, FOR UPDATE SKIP LOCKED). */
    FINANCE_CLAIM_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
    /** A claimed record not finished by then (the worker died) is claimed again, by another replica. */
    FINANCE_LEASE_MS: z.coerce.number().int().min(1_000).default(120_000),
    FINANCE_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(100),
    FINANCE_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
    /** Public origin the webhook URL is built on; unset: the origin the PUT came in on. */
    FINANCE_PUBLIC_URL: z.string().url().optional(),
    MOYSKLAD_API_URL: z.string().url().default('https://api.moysklad.ru/api/remap/1.2'),
    /**
     * `host:port[,host:port...]` a per-connection base URL (DMS, billing) may name although it is
     * plain http or a loopback/private address: tests and on-premises set-ups. Empty: https to
     * public addresses only.
     */
    FINANCE_ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean)),
    /** Largest PDF sent to a DMS (base64 in the body); a larger one fails its record as rejected. */
    FINANCE_DMS_MAX_FILE_BYTES: z.coerce.number().int().min(1024).default(20 * 1024 * 1024),
    /** How often each billing connection is imported. */
    FINANCE_BILLING_POLL_MS: z.coerce.number().int().min(1_000).default(15 * 60_000),
    /** Every import re-scans this many trailing days (001 has no updatedAt: a status change is only seen so). */
    FINANCE_BILLING_RESCAN_DAYS: z.coerce.number().int().min(0).max(3660).default(35),
  });

export type FinanceSyncConfig = z.infer<typeof financeSyncEnvSchema>;
export const CONFIG = Symbol('FINANCE_SYNC_CONFIG');

/** As loadConfig, with the encryption key's production rule reported together with the rest. */
export function loadFinanceSyncConfig(env: NodeJS.ProcessEnv = process.env): FinanceSyncConfig {
  const key = env.FINANCE_ENCRYPTION_KEY;
  const own: string[] = [];
  if (env.NODE_ENV === 'production' && (!key || key === DEV_ENCRYPTION_KEY)) own.push('FINANCE_ENCRYPTION_KEY: required in production (and not the development key)');
  let config: FinanceSyncConfig;
  try {
    config = loadConfig(financeSyncEnvSchema, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError([...err.problems, ...own]);
    throw err;
  }
  if (own.length) throw new ConfigError(own);
  return config;
}
