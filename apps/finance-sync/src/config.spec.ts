import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@papka/platform';
import { loadFinanceSyncConfig } from './config';

describe(loadFinanceSyncConfig.name, () => {
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://papka:secret@db/papka_finance',
    AUTH_JWT_SECRET: 'a-real-secret-of-at-least-thirty-two-characters',
    S3_ACCESS_KEY: 'papka',
    S3_SECRET_KEY: 'a-real-secret',
  };
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadFinanceSyncConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it("refuses k8s/secret.example.yaml's FINANCE_ENCRYPTION_KEY at start-up (it passed, and the container crashed on its first token)", () => {
    const example = readFileSync(path.join(__dirname, '../../../k8s/secret.example.yaml'), 'utf8');
    const key = /^\s+FINANCE_ENCRYPTION_KEY: (.+)$/m.exec(example)![1]!.trim();
    expect(problems({ ...production, FINANCE_ENCRYPTION_KEY: key })).toEqual(["FINANCE_ENCRYPTION_KEY: still the example's CHANGE_ME placeholder; set a value of your own in production"]);
    expect(problems({ ...production, FINANCE_ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 7).toString('base64')}` })).toEqual([]);
  });
});
