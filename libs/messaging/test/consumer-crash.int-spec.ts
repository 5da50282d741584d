import { randomUUID } from 'node:crypto';
import { AssignerProtocol, Kafka, logLevel, type Assigner, type Consumer } from 'kafkajs';
import { eventually, infraEnv } from '@papka/testing';
import { KafkaEventBus } from '../src';

/**
 * A member of the group that speaks another assignment protocol (another client library, a
 * misconfigured tool): the broker refuses our consumer's join with INCONSISTENT_GROUP_PROTOCOL,
 * which kafkajs takes as non-retriable. It then stops that consumer for good.
 */
const foreignAssigner = (): Assigner => ({
  name: 'ForeignAssigner',
  version: 1,
  async assign({ members }) {
    const empty = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: {}, userData: Buffer.alloc(0) });
    return members.map((m) => ({ memberId: m.memberId, memberAssignment: empty }));
  },
  protocol({ topics }) {
    return { name: 'ForeignAssigner', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
  },
});

describe('messaging: a consumer the broker stopped for good (real Kafka)', () => {
  const brokers = infraEnv().KAFKA_BROKERS.split(',');
  let foreign: Consumer | null = null;
  let bus: KafkaEventBus | null = null;

  afterEach(async () => {
    await foreign?.disconnect().catch(() => undefined);
    await bus?.close();
  });

  it('is reported stopped with the broker reason, started again, and then reads what was published meanwhile', async () => {
    const topic = `papka.test-crash-${randomUUID().slice(0, 8)}.v1`;
    const groupId = `test-crash-${randomUUID().slice(0, 8)}`;
    const logs: string[] = [];
    bus = new KafkaEventBus({ brokers, clientId: 'test-crash', partitions: 1, log: (level, message) => level === 'error' && logs.push(message) });
    await bus.ensureTopics([topic]);

    foreign = new Kafka({ clientId: 'test-crash-foreign', brokers, logLevel: logLevel.NOTHING }).consumer({ groupId, partitionAssigners: [foreignAssigner] });
    await foreign.connect();
    await foreign.subscribe({ topics: [topic] });
    let foreignJoined = false;
    foreign.on(foreign.events.GROUP_JOIN, () => (foreignJoined = true));
    await foreign.run({ eachMessage: async () => undefined });
    await eventually(async () => foreignJoined, 30_000);

    const seen: string[] = [];
    await bus.subscribe({ groupId, topics: [topic], handler: async (r) => void seen.push(r.value!.toString()) });
    await eventually(async () => bus!.subscriptionStates().some((s) => s.groupId === groupId && !s.running), 30_000);
    const [stopped] = bus.subscriptionStates();
    expect(stopped).toMatchObject({ groupId, running: false });
    expect(stopped!.lastError).toMatch(/protocols are incompatible/);
    expect(logs.some((m) => m.includes(groupId) && m.includes('starting it again'))).toBe(true);

    await bus.publish([{ topic, key: 'k', value: 'while-stopped' }]);
    await foreign.disconnect();
    foreign = null;
    // Started again once the foreign member left: it joins and reads the record.
    await eventually(async () => seen.includes('while-stopped'), 60_000);
    expect(bus.subscriptionStates()).toEqual([expect.objectContaining({ groupId, running: true })]);
  }, 120_000);
});
