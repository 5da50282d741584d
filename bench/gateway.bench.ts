/**
 * Benchmark (not a test): contractors list and create through the gateway, beside a bare
 * Nest endpoint measured in the same run on the same machine, printed as ratios.
 *
 *   npm run bench            (needs `node tools/infra/infra.mjs up postgres`; does it itself)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=32 npm run bench
 *
 * Papka path: client -> gateway (auth, rate limit off, route table, streaming proxy)
 * -> contractors (auth, validation, PostgreSQL, outbox) -> back. The in-process event bus is
 * used so the numbers measure the request path, not Kafka.
 */
import 'reflect-metadata';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import autocannon from 'autocannon';
import { baseUrl, createTestDatabase, dropDatabase, infra, TEST_JWT_SECRET, testToken } from '@papka/testing';
import { bootstrap as startContractors } from '../apps/contractors/src/bootstrap';
import { bootstrap as startGateway } from '../apps/gateway/src/bootstrap';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

/** The floor: Nest + Express doing no work but answering JSON of the same size. */
@Controller()
class BareController {
  constructor() {}
  static listBody: unknown[] = [];

  @Get('/bare/list')
  list() {
    return BareController.listBody;
  }

  @Post('/bare/create')
  create(@Body() _body: unknown) {
    return { status: 'OK', uuid: '00000000-0000-4000-8000-000000000000' };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, opts: { method?: 'GET' | 'POST'; body?: string; token?: string }): Promise<Result> {
  const r = await autocannon({
    url,
    method: opts.method ?? 'GET',
    body: opts.body,
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    },
    connections,
    duration: seconds,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

const row = (name: string, papka: Result, bare: Result) =>
  [
    name.padEnd(8),
    `${papka.rps.toFixed(0).padStart(7)} req/s  p50 ${papka.p50.toFixed(1).padStart(6)} ms  p99 ${papka.p99.toFixed(1).padStart(6)} ms`,
    `| bare ${bare.rps.toFixed(0).padStart(7)} req/s  p50 ${bare.p50.toFixed(1).padStart(6)} ms  p99 ${bare.p99.toFixed(1).padStart(6)} ms`,
    `| ratio req/s ${(papka.rps / bare.rps).toFixed(3)}  p50 x${(papka.p50 / Math.max(bare.p50, 0.01)).toFixed(1)}  p99 x${(papka.p99 / Math.max(bare.p99, 0.01)).toFixed(1)}`,
    papka.errors + papka.non2xx > 0 ? `  (papka errors ${papka.errors}, non-2xx ${papka.non2xx})` : '',
  ].join('  ');

async function main(): Promise<void> {
  infra('up', 'postgres');
  const db = await createTestDatabase('bench');
  const env = { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_JWT_SECRET, HOST: '127.0.0.1', PORT: '0' };
  const apps: INestApplication[] = [];
  try {
    const contractors = await startContractors({ ...env, DATABASE_URL: db, DATABASE_CREATE: 'false', EVENT_BUS: 'memory', DATABASE_POOL_SIZE: '20' });
    apps.push(contractors);
    const gateway = await startGateway({ ...env, CONTRACTORS_URL: baseUrl(contractors), RATE_LIMIT_POINTS: '100000000' });
    apps.push(gateway);
    const bare = await NestFactory.create(BareModule, { logger: false });
    await bare.listen(0, '127.0.0.1');
    apps.push(bare);

    const token = await testToken('bench');
    const gw = baseUrl(gateway);
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${gw}/v2/docs/contractors`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 3, name: `Контрагент ${i}`, address: 'г Москва, ул Тверская, д 1' }),
      });
      if (res.status !== 201) throw new Error(`seeding failed: HTTP ${res.status}`);
    }
    const page = await (await fetch(`${gw}/v2/contractors`, { headers: { authorization: `Bearer ${token}` } })).json();
    BareController.listBody = page as unknown[];
    const createBody = JSON.stringify({ type: 3, name: 'ООО Нагрузка', address: 'г Москва' });

    console.log(`papka bench: ${seconds}s per scenario, ${connections} connections, list page of ${BareController.listBody.length}`);
    await load(`${baseUrl(bare)}/bare/list`, {}); // warm-up of both paths
    await load(`${gw}/v2/contractors`, { token });
    const listBare = await load(`${baseUrl(bare)}/bare/list`, {});
    const listPapka = await load(`${gw}/v2/contractors`, { token });
    const createBare = await load(`${baseUrl(bare)}/bare/create`, { method: 'POST', body: createBody });
    const createPapka = await load(`${gw}/v2/docs/contractors`, { method: 'POST', body: createBody, token });
    console.log(row('list', listPapka, listBare));
    console.log(row('create', createPapka, createBare));
  } finally {
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    await dropDatabase(db).catch(() => undefined);
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
