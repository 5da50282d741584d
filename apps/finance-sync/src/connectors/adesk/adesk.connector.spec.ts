import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectorOptions, PaymentData } from '../connector';
import { AdeskConnector } from './adesk.connector';

/** Answers `/v2/transactions/create` with one object per item, ids 100.., in the reverse order. */
async function answeringReversed(withImportedId: boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const { transactions } = JSON.parse(raw) as { transactions: { importedId: string }[] };
      const objects = transactions.map((t, n) => ({ id: 100 + n, ...(withImportedId ? { importedId: t.importedId } : {}) })).reverse();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: true, transactions: objects }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const payment = (n: number): PaymentData =>
  ({ id: `p${n}`, type: 'income', name: `Оплата ${n}`, sum: 100_00 * n, date: '2026-06-05', interactionId: 'i', contractorId: 'c', contractorRemoteId: '7', projectRemoteId: '9' }) as PaymentData;

const connector = (url: string) =>
  new AdeskConnector(url, { token: 't', timeoutMs: 2_000, batchSize: 100, connectionTag: 'abcd1234', settings: { bankAccountId: 1 } } as unknown as ConnectorOptions);

describe(AdeskConnector.name, () => {
  it("maps each answered transaction to its payment by importedId, whatever the answer's order", async () => {
    const server = await answeringReversed(true);
    const sut = connector(server.url);
    try {
      // Sent p1, p2, p3 (ids 100, 101, 102), answered 102, 101, 100.
      await expect(sut.createPayments([payment(1), payment(2), payment(3)])).resolves.toEqual(['100', '101', '102']);
    } finally {
      await sut.close();
      await server.close();
    }
  });

  it('takes objects without an importedId in order', async () => {
    const server = await answeringReversed(false);
    const sut = connector(server.url);
    try {
      await expect(sut.createPayments([payment(1), payment(2)])).resolves.toEqual(['101', '100']);
    } finally {
      await sut.close();
      await server.close();
    }
  });
});
