import { Partitioners } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '@papka/contracts';
import type { EventContext } from '../../src';

/**
 * A handler's effect that shows loss, duplicates and reordering in the database: every event
 * bumps its own row (`applied` must end at 1), and its aggregate's `last_seq` only moves from
 * seq - 1 to seq; an event applied out of order is written to `out_of_order` instead.
 */
export const ORDERED_EFFECTS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS effect (
    event_id uuid PRIMARY KEY, aggregate text NOT NULL, seq int NOT NULL,
    kafka_partition int NOT NULL, kafka_offset bigint NOT NULL, applied int NOT NULL);
  CREATE TABLE IF NOT EXISTS aggregate_state (id text PRIMARY KEY, last_seq int NOT NULL);
  CREATE TABLE IF NOT EXISTS out_of_order (aggregate text NOT NULL, seq int NOT NULL, last_seq int);
`;

export interface Step {
  seq: number;
  /** Named steps let a test act on one of them (fail it, crash on it). */
  name?: string;
}

export const stepEvent = (aggregateId: string, step: Step): EventEnvelope<Step> => ({
  id: randomUUID(),
  type: 'step.done',
  version: 1,
  occurredAt: new Date().toISOString(),
  accountId: 'acc-1',
  aggregateId,
  traceId: randomUUID(),
  data: step,
});

/** The effect of one step event, in the handler's transaction. */
export async function applyStep(e: EventEnvelope, ctx: Pick<EventContext, 'manager' | 'partition' | 'offset'>): Promise<void> {
  const { seq } = e.data as Step;
  const m: EntityManager = ctx.manager;
  await m.query(
    `INSERT INTO effect (event_id, aggregate, seq, kafka_partition, kafka_offset, applied) VALUES ($1, $2, $3, $4, $5, 1)
     ON CONFLICT (event_id) DO UPDATE SET applied = effect.applied + 1`,
    [e.id, e.aggregateId, seq, ctx.partition, ctx.offset],
  );
  await m.query('INSERT INTO aggregate_state (id, last_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING', [e.aggregateId]);
  const [, moved] = (await m.query('UPDATE aggregate_state SET last_seq = $2 WHERE id = $1 AND last_seq = $2 - 1', [e.aggregateId, seq])) as [unknown, number];
  if (moved === 0) {
    await m.query('INSERT INTO out_of_order (aggregate, seq, last_seq) SELECT $1, $2, last_seq FROM aggregate_state WHERE id = $1', [e.aggregateId, seq]);
  }
}

/** What the effects say: applied counts that are not 1, steps out of order, last seq per aggregate. */
export async function effectsOf(ds: DataSource, aggregates: string[]) {
  const effects = (await ds.query('SELECT event_id, aggregate, seq, kafka_partition, kafka_offset, applied FROM effect WHERE aggregate = ANY($1)', [aggregates])) as {
    event_id: string;
    aggregate: string;
    seq: number;
    kafka_partition: number;
    kafka_offset: string;
    applied: number;
  }[];
  const outOfOrder = (await ds.query('SELECT aggregate, seq, last_seq FROM out_of_order WHERE aggregate = ANY($1)', [aggregates])) as unknown[];
  const last = (await ds.query('SELECT id, last_seq FROM aggregate_state WHERE id = ANY($1) ORDER BY id', [aggregates])) as { id: string; last_seq: number }[];
  return { effects, outOfOrder, last: Object.fromEntries(last.map((r) => [r.id, r.last_seq])) };
}

/**
 * A key per partition (`keys[p]` lands on partition p), chosen with the producer's own
 * partitioner, so a test knows which partition each aggregate's events are on.
 */
export function keysPerPartition(topic: string, partitions: number): string[] {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  const keys: (string | undefined)[] = new Array(partitions).fill(undefined);
  while (keys.some((k) => k === undefined)) {
    const key = randomUUID();
    const p = partitioner({ topic, partitionMetadata, message: { key, value: null } });
    keys[p] ??= key;
  }
  return keys as string[];
}
