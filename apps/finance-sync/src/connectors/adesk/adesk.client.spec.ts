import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectorError } from '../connector';
import { AdeskClient } from './adesk.client';

/** A server that reads each request whole (as a proxy that passed it on would) and answers 503. */
async function answering503(): Promise<{ url: string; received: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '2' });
      res.end('upstream connect error or disconnect/reset before headers');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received: () => received, close: () => new Promise((r) => server.close(() => r())) };
}

/** A server that answers every request with `status` and the JSON `body`. */
async function answering(status: number, body: unknown): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe(AdeskClient.name, () => {
  it('marks a refusal every item of a bulk call would get (a closed bank account), and only that one', async () => {
    for (const [errorCode, everyItem] of [['cannot_use_closed_bank_account', true], ['validation_error', false]] as const) {
      const server = await answering(400, { success: false, message: 'refused', errorCode });
      const client = new AdeskClient(server.url, 'token', 2_000);
      try {
        const err = (await client.v2Post('/v2/transactions/create', { transactions: [] }).catch((e: unknown) => e)) as ConnectorError;
        expect({ errorCode, failure: err.failure, everyItem: err.everyItem }).toEqual({ errorCode, failure: 'rejected', everyItem });
      } finally {
        await client.close();
        await server.close();
      }
    }
  });

  it('takes a 500 whose body says only "code 500" as an unknown outcome for a write, and a body that names a refusal as one', async () => {
    const cases: [unknown, string, string][] = [
      [{ success: false, message: 'Internal server error', code: 500 }, 'outcome_unknown', 'unavailable'],
      [{ success: false, message: 'Ошибка', errors: { amount: ['Обязательное поле.'] } }, 'rejected', 'rejected'],
      [{ success: false, message: 'closed', errorCode: 'cannot_use_closed_bank_account' }, 'rejected', 'rejected'],
      [{ success: false, message: 'Ошибка', errorCode: 'validation_error' }, 'rejected', 'rejected'],
      [{ success: false, message: 'Too many requests', code: 429 }, 'rate_limited', 'rate_limited'],
    ];
    for (const [body, write, read] of cases) {
      const server = await answering(500, body);
      const client = new AdeskClient(server.url, 'token', 2_000);
      try {
        const w = (await client.v2Post('/v2/transactions/create', { transactions: [] }).catch((e: unknown) => e)) as ConnectorError;
        const r = (await client.v1Get('/v1/contractors', {}).catch((e: unknown) => e)) as ConnectorError;
        expect({ body, write: w.failure, read: r.failure }).toEqual({ body, write, read });
      } finally {
        await client.close();
        await server.close();
      }
    }
  });

  it('takes a 503 to a write as an unknown outcome (looked up before any resend), and to a read as the target being down', async () => {
    const server = await answering503();
    const client = new AdeskClient(server.url, 'token', 2_000);
    try {
      const write = (await client.v2Post('/v2/transactions/create', { transactions: [] }).catch((e: unknown) => e)) as ConnectorError;
      const read = (await client.v1Get('/v1/contractors', {}).catch((e: unknown) => e)) as ConnectorError;
      expect(server.received()).toBe(2);
      expect(write).toMatchObject({ failure: 'outcome_unknown', method: 'POST /v2/transactions/create' });
      expect(read).toMatchObject({ failure: 'unavailable', retryAfterMs: 2_000 });
    } finally {
      await client.close();
      await server.close();
    }
  });
});
