import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Client } from 'pg';
import { ContractorCreated, ContractorDeleted, ContractorUpdated, Topics, type ContractorSnapshot, type EventEnvelope } from '@papka/contracts';
import { createTestDatabase, dropDatabase, eventually, infraEnv, s3Env, serviceEnv } from '@papka/testing';
import { bootstrap } from '../src/bootstrap';

/**
 * Replicas order by the producer's per-aggregate sequence, not by the event's clock: a
 * contractors pod whose clock says 2999 (or two pods with skewed clocks) must not freeze a
 * replica, and a real delete afterwards must still apply.
 */
describe('interactions replicas: ordered by sequence, not by clock', () => {
  const accountId = `acc-${randomUUID().slice(0, 8)}`;
  const contractorId = randomUUID();
  let dbUrl: string;
  let app: INestApplication;
  let producer: Producer;
  let db: Client;

  const snapshot = (name: string): ContractorSnapshot => ({
    uuid: contractorId,
    type: 2,
    mainInfo: { name, inn: null, address: null },
    bankInfo: [],
    contactInfo: [],
    fullInfo: null,
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
  });

  const publish = async (type: string, sequence: number, occurredAt: string, name: string) => {
    const envelope: EventEnvelope<ContractorSnapshot> = {
      id: randomUUID(),
      type,
      version: 1,
      occurredAt,
      accountId,
      aggregateId: contractorId,
      sequence,
      traceId: randomUUID(),
      data: snapshot(name),
    };
    await producer.send({ topic: Topics.contractors, acks: -1, messages: [{ key: contractorId, value: JSON.stringify(envelope) }] });
  };

  const replica = async () =>
    ((await db.query(`SELECT name, deleted, version::int AS version FROM contractor_replica WHERE id = $1`, [contractorId])).rows[0] ?? null) as {
      name: string;
      deleted: boolean;
      version: number;
    } | null;

  beforeAll(async () => {
    dbUrl = await createTestDatabase('replica_sequence');
    app = await bootstrap(serviceEnv({ ...s3Env(), DATABASE_URL: dbUrl, PORT: '0', HOST: '127.0.0.1' }) as NodeJS.ProcessEnv);
    const kafka = new Kafka({ clientId: 'test-replica-sequence', brokers: infraEnv().KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    db = new Client({ connectionString: dbUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await producer?.disconnect();
    await app?.close();
    if (dbUrl) await dropDatabase(dbUrl);
  });

  it('applies a real delete after an event dated 2999, and ignores an older event arriving late', async () => {
    await publish(ContractorCreated.type, 1, new Date().toISOString(), 'ООО Первое');
    await eventually(async () => (await replica())?.version === 1, 60_000);

    // A pod with its clock far in the future.
    await publish(ContractorUpdated.type, 2, '2999-01-01T00:00:00.000Z', 'ООО Из будущего');
    await eventually(async () => (await replica())?.version === 2);

    // The real delete, from a pod with a correct clock: it must win.
    await publish(ContractorDeleted.type, 3, new Date().toISOString(), 'ООО Последнее');
    await eventually(async () => (await replica())?.deleted === true);
    expect(await replica()).toEqual({ name: 'ООО Последнее', deleted: true, version: 3 });

    // A redelivered older event (sequence 2) changes nothing; a marker event after it shows it was consumed.
    await publish(ContractorUpdated.type, 2, new Date().toISOString(), 'ООО Опоздавшее');
    const marker = randomUUID();
    await producer.send({
      topic: Topics.contractors,
      acks: -1,
      messages: [{ key: marker, value: JSON.stringify({ id: randomUUID(), type: ContractorCreated.type, version: 1, occurredAt: new Date().toISOString(), accountId, aggregateId: marker, sequence: 1, traceId: '', data: { ...snapshot('marker'), uuid: marker } }) }],
    });
    await eventually(async () => (await db.query(`SELECT 1 FROM contractor_replica WHERE id = $1`, [marker])).rowCount === 1, 30_000);
    expect(await replica()).toEqual({ name: 'ООО Последнее', deleted: true, version: 3 });
  });
});
