import { z } from 'zod';
import { DEV_JWT_SECRET } from '@papka/auth';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string>;

/** The MinIO image's default keys: fine on a laptop, never in production. */
export const MINIO_DEFAULT_KEY = 'minioadmin';

/**
 * Defaults that depend on NODE_ENV, which a zod default cannot see. loadConfig fills them in
 * before parsing, for the variables the schema declares.
 */
const environmentDefaults: Record<string, (production: boolean) => string> = {
  DATABASE_CREATE: (production) => String(!production),
};

/**
 * Rules across variables, checked on the raw environment whether or not the rest parses, so
 * they are reported together with every other problem. Only for variables the schema declares.
 */
/**
 * The marker k8s/secret.example.yaml puts in every value to replace. A copy applied unedited
 * passed the other checks (its JWT secret is 44 characters), and anyone who read the example
 * could mint tokens.
 */
const isPlaceholder = (value: string | undefined) => value?.includes('CHANGE_ME') ?? false;
const PLACEHOLDER_PROBLEM = (name: string) => `${name}: still the example's CHANGE_ME placeholder; set a value of your own in production`;

function productionProblems(env: Env, declares: (name: string) => boolean): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (declares('AUTH_JWT_SECRET')) {
    if (env.AUTH_JWT_SECRET === DEV_JWT_SECRET) problems.push('AUTH_JWT_SECRET: must not be the development secret in production');
    else if (isPlaceholder(env.AUTH_JWT_SECRET)) problems.push(PLACEHOLDER_PROBLEM('AUTH_JWT_SECRET'));
    else if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL) problems.push('AUTH_JWT_SECRET: required in production (or set AUTH_JWKS_URL)');
  }
  if (declares('STORAGE_DRIVER') && (env.STORAGE_DRIVER ?? 's3') === 's3') {
    for (const name of ['S3_ACCESS_KEY', 'S3_SECRET_KEY']) {
      if (!env[name]) problems.push(`${name}: required in production when STORAGE_DRIVER is s3`);
      else if (env[name] === MINIO_DEFAULT_KEY) problems.push(`${name}: must not be the MinIO default in production`);
      else if (isPlaceholder(env[name])) problems.push(PLACEHOLDER_PROBLEM(name));
    }
  }
  // Any other value still holding the example's marker: a database URL with its CHANGE_ME
  // password, FINANCE_ENCRYPTION_KEY (it passed here and crashed the container later), the DaData
  // key (leave it out to run without look-ups: it is optional).
  for (const [name, value] of Object.entries(env)) {
    if (!declares(name) || !isPlaceholder(value) || problems.some((p) => p.startsWith(`${name}:`))) continue;
    problems.push(name === 'DADATA_API_KEY' ? `${PLACEHOLDER_PROBLEM(name)} (or leave it out: Papka then runs without look-ups)` : PLACEHOLDER_PROBLEM(name));
  }
  return problems;
}

// Zod's own enum message repeats the value it got; a config error never echoes a value.
const withoutValues: z.ZodErrorMap = (issue, ctx) =>
  issue.code === z.ZodIssueCode.invalid_enum_value ? { message: `must be one of ${issue.options.join(', ')}` } : { message: ctx.defaultError };

/**
 * Validates environment variables against a zod schema and reports every problem at once,
 * each naming its variable and none repeating its value, so a bad deployment stops at
 * start-up with a useful message that is safe to log. Production rules (no development JWT
 * secret, no MinIO default keys) are part of it.
 */
export function loadConfig<S extends z.AnyZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // Empty strings count as unset, as they do in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Env;
  const declares = (name: string) => name in schema.shape;
  const production = cleaned.NODE_ENV === 'production';
  for (const [name, fallback] of Object.entries(environmentDefaults)) {
    if (declares(name) && cleaned[name] === undefined) cleaned[name] = fallback(production);
  }
  const result = schema.safeParse(cleaned, { errorMap: withoutValues });
  const problems = [
    ...(result.success ? [] : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)),
    ...productionProblems(cleaned, declares),
  ];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

const BOOLEANS = new Map([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);

/**
 * A boolean variable: true/false, 1/0 or yes/no in any case; anything else is an error naming
 * the variable. `fallback` when unset; without one the variable is required.
 */
export function envBoolean(fallback?: boolean) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): boolean => {
      const value = raw === undefined ? fallback : BOOLEANS.get(raw.trim().toLowerCase());
      if (value !== undefined) return value;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: raw === undefined ? 'Required' : 'must be true or false (or 1/0, yes/no)' });
      return z.NEVER;
    });
}

const port = z.coerce.number().int().min(0).max(65535); // 0: any free port (tests)

/** Variables every service reads. */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset: the development secret, outside production only (see productionProblems). */
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  AUTH_JWKS_URL: z.string().url().optional(),
  AUTH_ISSUER: z.string().optional(),
  AUTH_AUDIENCE: z.string().optional(),
  /** Serve Prometheus `/metrics` on this port only (Kubernetes); unset: on the app's port (embedded, compose). */
  METRICS_PORT: port.optional(),
  /**
   * After SIGTERM, requests still in flight this long (a large upload or download, a ZIP bundle)
   * are cut, so the process ends within its grace period: the pod's grace period less its
   * preStop sleep and a margin.
   */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(15_000),
});

/** Variables of a service that owns a database and publishes or consumes events. */
export const dataEnvSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** PostgreSQL cancels a service's statement that runs longer (0: no limit); migrations and CLIs have none. */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  /** Create the database when missing (embedded mode, tests). Unset: on outside production (environmentDefaults). */
  DATABASE_CREATE: envBoolean(),
  /** Run migrations at start-up (a Kubernetes Job may do it instead). */
  MIGRATIONS_RUN: envBoolean(true),
  EVENT_BUS: z.enum(['kafka', 'memory']).default('kafka'),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean)),
  KAFKA_CLIENT_ID: z.string().optional(),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** Outbox rows older than this make /health/ready report the outbox `degraded` (never failing readiness). */
  OUTBOX_STUCK_SECONDS: z.coerce.number().int().min(1).default(60),
});

/** Variables of a service that reads or writes object storage. */
export const storageEnvSchema = z.object({
  /** Object storage: `s3` (MinIO or any S3) or `fs` (embedded mode). */
  STORAGE_DRIVER: z.enum(['s3', 'fs']).default('s3'),
  S3_ENDPOINT: z.string().url().default('http://127.0.0.1:9000'),
  /** The MinIO defaults outside production; required (and not those) in production with s3. */
  S3_ACCESS_KEY: z.string().default(MINIO_DEFAULT_KEY),
  S3_SECRET_KEY: z.string().default(MINIO_DEFAULT_KEY),
  S3_REGION: z.string().default('us-east-1'),
  STORAGE_FS_ROOT: z.string().default('./.papka-data/storage'),
});

export type StorageEnv = z.infer<typeof storageEnvSchema>;

export const portSchema = (fallback: number) => z.object({ PORT: port.default(fallback) });

/**
 * Auth settings out of the validated env: the secret, or the development one when neither a
 * secret nor a JWKS URL is set (loadConfig has already refused that in production).
 */
export function authConfig(env: z.infer<typeof baseEnvSchema>, devSecret: string) {
  const secret = env.AUTH_JWT_SECRET ?? (env.AUTH_JWKS_URL ? undefined : devSecret);
  return { jwtSecret: secret, jwksUrl: env.AUTH_JWKS_URL, issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE };
}
