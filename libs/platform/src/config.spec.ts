import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEV_JWT_SECRET } from '@papka/auth';
import { baseEnvSchema, ConfigError, dataEnvSchema, envBoolean, loadConfig, storageEnvSchema } from './config';

/** The problems loadConfig reports, or [] when it accepts the env. */
function problemsOf(schema: z.AnyZodObject, env: Record<string, string>): string[] {
  try {
    loadConfig(schema, env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}
const variables = (problems: string[]) => problems.map((p) => p.split(':')[0]);

const SECRET = 's'.repeat(40);
const DB = { DATABASE_URL: 'postgres://u:p@h/db' };
const serviceSchema = baseEnvSchema.merge(dataEnvSchema).merge(storageEnvSchema);
const gatewaySchema = baseEnvSchema;

describe(envBoolean.name, () => {
  const schema = z.object({ FLAG: envBoolean(), ON: envBoolean(true), OFF: envBoolean(false) });
  const sut = (env: Record<string, string>) => loadConfig(schema, env);

  it.each(['true', 'TRUE', 'True', '1', 'yes', 'YES', ' yes '])('reads %p as true', (raw) => {
    expect(sut({ FLAG: raw }).FLAG).toBe(true);
  });

  it.each(['false', 'FALSE', '0', 'no', 'No'])('reads %p as false', (raw) => {
    expect(sut({ FLAG: raw }).FLAG).toBe(false);
  });

  it('falls back when unset or empty, and is required without a fallback', () => {
    expect(sut({ FLAG: 'yes', OFF: '' })).toEqual({ FLAG: true, ON: true, OFF: false });
    expect(problemsOf(schema, {})).toEqual(['FLAG: Required']);
  });

  it.each(['maybe', 'on', '2', 'constructor'])('refuses %p, naming the variable and not the value', (raw) => {
    const problems = problemsOf(schema, { FLAG: raw, ON: raw });
    expect(variables(problems)).toEqual(['FLAG', 'ON']);
    expect(problems.join('\n')).not.toContain(raw);
  });
});

describe(loadConfig.name, () => {
  describe('defaults', () => {
    it('creates the database and runs migrations by default outside production', () => {
      const sut = loadConfig(serviceSchema, { ...DB });
      expect(sut).toMatchObject({ DATABASE_CREATE: true, MIGRATIONS_RUN: true, S3_ACCESS_KEY: 'minioadmin', S3_SECRET_KEY: 'minioadmin' });
    });

    it('does not create the database by default in production, unless told to', () => {
      const production = { ...DB, NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET, STORAGE_DRIVER: 'fs' };
      expect(loadConfig(serviceSchema, production).DATABASE_CREATE).toBe(false);
      expect(loadConfig(serviceSchema, { ...production, DATABASE_CREATE: 'yes' }).DATABASE_CREATE).toBe(true);
      expect(loadConfig(serviceSchema, { ...DB, DATABASE_CREATE: 'false' }).DATABASE_CREATE).toBe(false);
    });

    it('leaves DATABASE_CREATE out of a schema that does not declare it', () => {
      expect(loadConfig(gatewaySchema, {})).not.toHaveProperty('DATABASE_CREATE');
    });
  });

  describe('in production', () => {
    const production = { NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET, S3_ACCESS_KEY: 'papka', S3_SECRET_KEY: 'a-real-secret' };

    it('accepts a real secret and real S3 keys', () => {
      expect(problemsOf(serviceSchema, { ...DB, ...production })).toEqual([]);
    });

    it('reports every production rule together with the other errors, in one message that echoes no value', () => {
      const env = {
        NODE_ENV: 'production',
        DATABASE_URL: 'mysql://root:hunter2@h/db',
        MIGRATIONS_RUN: 'perhaps',
        LOG_LEVEL: 'chatty-value',
        AUTH_JWT_SECRET: DEV_JWT_SECRET,
        S3_SECRET_KEY: 'minioadmin',
      };
      try {
        loadConfig(serviceSchema, env);
        throw new Error('expected a ConfigError');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        const { problems, message } = err as ConfigError;
        expect(variables(problems)).toEqual(['LOG_LEVEL', 'DATABASE_URL', 'MIGRATIONS_RUN', 'AUTH_JWT_SECRET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']);
        for (const value of ['hunter2', 'perhaps', 'chatty-value', DEV_JWT_SECRET, 'minioadmin']) expect(message).not.toContain(value);
      }
    });

    it('refuses the development secret, and a missing one without AUTH_JWKS_URL', () => {
      expect(problemsOf(gatewaySchema, { NODE_ENV: 'production', AUTH_JWT_SECRET: DEV_JWT_SECRET })).toEqual([
        'AUTH_JWT_SECRET: must not be the development secret in production',
      ]);
      expect(problemsOf(gatewaySchema, { NODE_ENV: 'production' })).toEqual(['AUTH_JWT_SECRET: required in production (or set AUTH_JWKS_URL)']);
      expect(problemsOf(gatewaySchema, { NODE_ENV: 'production', AUTH_JWKS_URL: 'https://id.example/jwks.json' })).toEqual([]);
    });

    it("refuses k8s/secret.example.yaml's CHANGE_ME placeholders for the JWT secret and the S3 keys", () => {
      const example = readFileSync(path.join(__dirname, '../../../k8s/secret.example.yaml'), 'utf8');
      const value = (name: string) => new RegExp(`^\\s+${name}: (.+)$`, 'm').exec(example)![1]!.trim();
      expect(problemsOf(gatewaySchema, { NODE_ENV: 'production', AUTH_JWT_SECRET: value('AUTH_JWT_SECRET') })).toEqual([
        "AUTH_JWT_SECRET: still the example's CHANGE_ME placeholder; set a value of your own in production",
      ]);
      expect(variables(problemsOf(serviceSchema, { ...DB, ...production, S3_ACCESS_KEY: value('S3_ACCESS_KEY'), S3_SECRET_KEY: value('S3_SECRET_KEY') }))).toEqual([
        'S3_ACCESS_KEY',
        'S3_SECRET_KEY',
      ]);
    });

    it("refuses the example's CHANGE_ME in any other variable the service reads (a database URL's password), and names the DaData key's way out", () => {
      const example = readFileSync(path.join(__dirname, '../../../k8s/secret.example.yaml'), 'utf8');
      const value = (name: string) => new RegExp(`^\\s+${name}: (.+)$`, 'm').exec(example)![1]!.trim();
      expect(problemsOf(serviceSchema, { ...production, DATABASE_URL: value('CONTRACTORS_DATABASE_URL') })).toEqual([
        "DATABASE_URL: still the example's CHANGE_ME placeholder; set a value of your own in production",
      ]);
      const withDadata = serviceSchema.extend({ DADATA_API_KEY: z.string().optional() });
      expect(problemsOf(withDadata, { ...DB, ...production, DADATA_API_KEY: value('DADATA_API_KEY') })).toEqual([
        "DADATA_API_KEY: still the example's CHANGE_ME placeholder; set a value of your own in production (or leave it out: Papka then runs without look-ups)",
      ]);
      // Not a variable the service reads: not its business.
      expect(problemsOf(serviceSchema, { ...DB, ...production, SOMETHING_ELSE: 'CHANGE_ME' })).toEqual([]);
      // Outside production, nothing.
      expect(problemsOf(withDadata, { ...DB, DADATA_API_KEY: 'CHANGE_ME' })).toEqual([]);
    });

    it('requires both S3 keys, and neither may be the MinIO default', () => {
      expect(problemsOf(serviceSchema, { ...DB, NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET })).toEqual([
        'S3_ACCESS_KEY: required in production when STORAGE_DRIVER is s3',
        'S3_SECRET_KEY: required in production when STORAGE_DRIVER is s3',
      ]);
      expect(variables(problemsOf(serviceSchema, { ...DB, ...production, S3_ACCESS_KEY: 'minioadmin' }))).toEqual(['S3_ACCESS_KEY']);
    });

    it('asks nothing of S3 with the filesystem driver, or of a service without storage', () => {
      expect(problemsOf(serviceSchema, { ...DB, NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET, STORAGE_DRIVER: 'fs' })).toEqual([]);
      expect(problemsOf(gatewaySchema, { NODE_ENV: 'production', AUTH_JWT_SECRET: SECRET })).toEqual([]);
    });
  });

  it('allows the development secret and the MinIO defaults outside production', () => {
    expect(problemsOf(serviceSchema, { ...DB, NODE_ENV: 'test', AUTH_JWT_SECRET: DEV_JWT_SECRET })).toEqual([]);
  });
});
