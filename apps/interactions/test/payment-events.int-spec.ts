import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Client } from 'pg';
import type { QueryRunner } from 'typeorm';
import { ContractorCreated, Topics, type ContractorSnapshot, type EventEnvelope, type InteractionPaymentEvent, type InteractionView } from '@papka/contracts';
import { apiClient, baseUrl, createTestDatabase, dropDatabase, eventually, infraEnv, readTopic, s3Env, serviceEnv, testToken } from '@papka/testing';
import { bootstrap } from '../src/bootstrap';
import { InteractionPaymentTotals1763700000750 } from '../src/migrations/1763700000750-interaction-payment-totals';

const PAYMENTS = 500;

/**
 * Issue 10, defect 2: an interaction event used to carry every payment, so at thousands of
 * payments each event was hundreds of KB and recording one more re-read them all. Now the
 * snapshot has the totals and the payment events carry the one payment: the event recording
 * payment 500 is as big as the one recording payment 1.
 */
describe('interactions: payment events do not grow with the payments (PostgreSQL + Kafka)', () => {
  const accountId = `acc-pay-${randomUUID().slice(0, 8)}`;
  const contractorId = randomUUID();
  let dbUrl: string;
  let app: INestApplication;
  let producer: Producer;
  let db: Client;
  let api: ReturnType<typeof apiClient>;

  const contractor: ContractorSnapshot = {
    uuid: contractorId,
    type: 2,
    mainInfo: { name: 'ООО Много платежей', inn: null, address: null },
    bankInfo: [],
    contactInfo: [],
    fullInfo: null,
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
  };

  beforeAll(async () => {
    dbUrl = await createTestDatabase('payment_events');
    app = await bootstrap(serviceEnv({ ...s3Env(), DATABASE_URL: dbUrl, PORT: '0', HOST: '127.0.0.1' }) as NodeJS.ProcessEnv);
    api = apiClient(baseUrl(app), await testToken(accountId));
    db = new Client({ connectionString: dbUrl });
    await db.connect();
    // The contractor reaches the read model the way it does in production: as an event.
    const kafka = new Kafka({ clientId: 'test-payment-events', brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    const created: EventEnvelope<ContractorSnapshot> = {
      id: randomUUID(),
      type: ContractorCreated.type,
      version: ContractorCreated.version,
      occurredAt: new Date().toISOString(),
      accountId,
      aggregateId: contractorId,
      sequence: 1,
      traceId: randomUUID(),
      data: contractor,
    };
    await producer.send({ topic: Topics.contractors, acks: -1, messages: [{ key: contractorId, value: JSON.stringify(created) }] });
    await eventually(async () => (await db.query(`SELECT 1 FROM contractor_replica WHERE id = $1`, [contractorId])).rowCount === 1, 60_000);
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await producer?.disconnect();
    await app?.close();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it(`records ${PAYMENTS} payments with events of the same size, a snapshot without payments, and the API still listing them all`, async () => {
    const made = await api<{ uuid: string }>('POST', '/v2/docs/interactions', { contractor: contractorId, name: 'Абонентское обслуживание', sum: 1_000_000 });
    expect(made.status).toBe(201);
    const id = made.body.uuid;

    const ms: number[] = [];
    const paymentIds: string[] = [];
    for (let n = 1; n <= PAYMENTS; n++) {
      const started = performance.now();
      const res = await api<{ uuid: string }>('POST', `/v2/docs/interactions/${id}/payments`, {
        type: n % 10 === 0 ? 'outcome' : 'income',
        name: `Платёж по счёту № ${n}`,
        sum: 100,
        date: '2026-11-30',
      });
      ms.push(performance.now() - started);
      expect(res.status).toBe(201);
      paymentIds.push(res.body.uuid);
    }
    const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`record payment p50: first 50 ${p50(ms.slice(0, 50)).toFixed(1)} ms, last 50 ${p50(ms.slice(-50)).toFixed(1)} ms`);

    // Every tenth is an outcome, all of 100 rubles: 450 in and 50 out, 40,000 rubles paid.
    const outcomes = Math.floor(PAYMENTS / 10);
    const paid = (PAYMENTS - outcomes) * 100_00 - outcomes * 100_00;
    const removed = paymentIds[0]!;
    expect((await api('DELETE', `/v2/docs/interactions/${id}/payments/${removed}`)).status).toBe(200);

    const isPaymentEvent = (v: string) => v.includes('"interaction.payment.');
    const messages = (
      await readTopic(Topics.interactions, (all) => all.filter((m) => m.key === id && isPaymentEvent(m.value)).length >= PAYMENTS + 1, 120_000)
    ).filter((m) => m.key === id && isPaymentEvent(m.value));
    expect(messages).toHaveLength(PAYMENTS + 1);
    const events = messages.map((m) => ({ bytes: Buffer.byteLength(m.value), e: JSON.parse(m.value) as EventEnvelope<InteractionPaymentEvent> }));
    const recorded = events.filter((x) => x.e.type === 'interaction.payment.recorded');
    const [first, last] = [recorded[0]!, recorded[PAYMENTS - 1]!];

    // The same size at payment 1 and payment 500: only a few digits differ (counts, sums, names).
    console.log(`interaction.payment.recorded: ${first.bytes} bytes at payment 1, ${last.bytes} bytes at payment ${PAYMENTS}`);
    expect(last.bytes - first.bytes).toBeLessThan(64);
    expect(Math.max(...recorded.map((x) => x.bytes))).toBeLessThan(4 * 1024);
    for (const { e } of events) {
      expect(e.version).toBe(2);
      expect(e.data).not.toHaveProperty('payments');
    }
    expect(first.e.data).toMatchObject({ paymentsCount: 1, paidSum: 100_00, balance: 1_000_000_00 - 100_00, payment: { uuid: paymentIds[0], sum: 100_00, date: '2026-11-30' } });
    expect(last.e.data).toMatchObject({ paymentsCount: PAYMENTS, paidSum: paid, balance: 1_000_000_00 - paid, payment: { uuid: paymentIds[PAYMENTS - 1], type: 'outcome' } });

    const removal = events.find((x) => x.e.type === 'interaction.payment.removed')!;
    expect(removal.e.data).toMatchObject({ paymentsCount: PAYMENTS - 1, paidSum: paid - 100_00, payment: { uuid: removed, sum: 100_00 } });

    // The public API answers every payment as before (built from the database, not from events).
    const view = await api<InteractionView>('GET', `/v2/docs/interactions/${id}`);
    expect(view.status).toBe(200);
    expect(view.body.payments).toHaveLength(PAYMENTS - 1);
    expect(view.body.payments.map((p) => p.uuid)).not.toContain(removed);
    expect(view.body).toMatchObject({ paidSum: (paid - 100_00) / 100, balance: 1_000_000 - (paid - 100_00) / 100 });

    // The totals on the row are exactly what the payments add up to.
    const [row] = (
      await db.query(
        `SELECT i.paid_sum::int AS paid_sum, i.payments_count,
                (SELECT COALESCE(SUM(CASE WHEN p.type = 'income' THEN p.sum ELSE -p.sum END), 0)::int FROM interaction_payment p WHERE p.interaction_id = i.id) AS actual_sum,
                (SELECT COUNT(*)::int FROM interaction_payment p WHERE p.interaction_id = i.id) AS actual_count
           FROM interaction i WHERE i.id = $1`,
        [id],
      )
    ).rows;
    expect(row).toEqual({ paid_sum: paid - 100_00, payments_count: PAYMENTS - 1, actual_sum: paid - 100_00, actual_count: PAYMENTS - 1 });

    // Deleting the interaction cascades to its payments through the totals trigger.
    expect((await api('DELETE', `/v2/docs/interactions/${id}`)).status).toBe(200);
    const deleted = await readTopic(Topics.interactions, (all) => all.some((m) => m.key === id && m.value.includes('"interaction.deleted"')), 30_000);
    const last_ = JSON.parse(deleted.find((m) => m.key === id && m.value.includes('"interaction.deleted"'))!.value) as EventEnvelope<InteractionPaymentEvent>;
    expect(last_.data).toMatchObject({ paymentsCount: PAYMENTS - 1, paidSum: paid - 100_00 });
    expect(last_.data).not.toHaveProperty('payments');
    expect((await db.query(`SELECT 1 FROM interaction_payment WHERE interaction_id = $1`, [id])).rowCount).toBe(0);
  }, 300_000);

  it('backfills the totals of payments written before the migration, and keeps them after it', async () => {
    const made = await api<{ uuid: string }>('POST', '/v2/docs/interactions', { contractor: contractorId, name: 'До миграции', sum: 10 });
    const id = made.body.uuid;
    const migration = new InteractionPaymentTotals1763700000750();
    const runner = { query: (sql: string) => db.query(sql) } as unknown as QueryRunner;
    const inTransaction = async (fn: () => Promise<void>) => {
      await db.query('BEGIN');
      await fn();
      await db.query('COMMIT');
    };
    // As it was before: no totals, payments written straight into the table.
    await inTransaction(() => migration.down(runner));
    for (const [type, sum] of [['income', 700], ['income', 300], ['outcome', 150]] as const) {
      await db.query(`INSERT INTO interaction_payment (id, interaction_id, type, name, sum, date) VALUES ($1, $2, $3, 'x', $4, '2026-01-01')`, [randomUUID(), id, type, sum]);
    }
    await inTransaction(() => migration.up(runner));
    const totals = async () => (await db.query(`SELECT paid_sum::int AS paid_sum, payments_count FROM interaction WHERE id = $1`, [id])).rows[0];
    expect(await totals()).toEqual({ paid_sum: 850, payments_count: 3 });
    // ... and the trigger keeps them from then on, for a write that bypasses the service too.
    await db.query(`DELETE FROM interaction_payment WHERE interaction_id = $1 AND type = 'outcome'`, [id]);
    await db.query(`UPDATE interaction_payment SET sum = 1000 WHERE interaction_id = $1 AND sum = 700`, [id]);
    expect(await totals()).toEqual({ paid_sum: 1300, payments_count: 2 });
  });
});
