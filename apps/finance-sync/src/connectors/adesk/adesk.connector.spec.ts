import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeAdesk } from '@papka/testing';
import type { ConnectorOptions, ContractorData, PaymentData } from '../connector';
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

  it("after a contractor's create answer was lost, its look-up finds its own object, not another Papka contractor's of the same INN", async () => {
    const adesk = await startFakeAdesk();
    const sut = new AdeskConnector(adesk.url, { token: adesk.token, timeoutMs: 2_000, batchSize: 100, connectionTag: 'abcd1234', settings: {} } as unknown as ConnectorOptions);
    try {
      const branch = (id: string, name: string, kpp: string): ContractorData => ({ id, type: 2, name, inn: '7701234567', kpp, address: null, ogrn: null, legalName: null, legalAddress: null, banks: [] }) as unknown as ContractorData;
      const x = branch('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'ООО Ромашка (Москва)', '770101001');
      const y = branch('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'ООО Ромашка (филиал СПб)', '784201001');
      const done = new Map<string, string>();
      for (const step of sut.contractorSteps(x, (k, key) => done.get(`${k}:${key}`), false, () => [])) done.set(`${step.kind}:${step.key}`, await step.run());
      // Y's create is applied and its answer lost (its requisites, with the INN, never made).
      adesk.setCommitThenDrop(1, 'reset');
      const create = sut.contractorSteps(y, () => undefined, false, () => [])[0]!;
      await expect(create.run()).rejects.toMatchObject({ failure: 'outcome_unknown' });
      await adesk.clearFaults();
      const own = adesk.contractors().find((k) => k.name === y.name)!;
      const xRemote = done.get(`contractor:${x.id}`)!;
      expect(xRemote).not.toBe(String(own.id));
      // The engine says which remote objects another entity holds: X's is not Y's.
      await expect(create.find(async (id) => id === xRemote)).resolves.toBe(String(own.id));
    } finally {
      await sut.close();
      await adesk.close();
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
