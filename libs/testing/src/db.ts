import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { infraEnv } from './infra';

/**
 * A new, empty database for one test file, so files never see each other's rows.
 * Returns its URL; `dropDatabase(url)` removes it.
 */
export async function createTestDatabase(prefix: string): Promise<string> {
  const admin = new URL(infraEnv().PG_URL);
  const name = `t_${prefix.replace(/\W/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(infraEnv().PG_URL);
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
