import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventDefinition, EventEnvelope } from '@papka/contracts';
import { currentTraceId } from '../trace';

export interface NewEvent<TData> {
  accountId: string;
  aggregateId: string;
  data: TData;
}

/** Builds the envelope and stores it in the outbox, inside the caller's transaction. */
export async function writeToOutbox<TData, TType extends string>(
  manager: EntityManager,
  event: EventDefinition<TData, TType>,
  e: NewEvent<TData>,
): Promise<EventEnvelope<TData, TType>> {
  if (!manager.queryRunner?.isTransactionActive) {
    // An outbox write outside a transaction could publish a change that then rolls back.
    throw new Error(`writeToOutbox(${event.type}) must run inside a transaction`);
  }
  const envelope: EventEnvelope<TData, TType> = {
    id: randomUUID(),
    type: event.type,
    version: event.version,
    occurredAt: new Date().toISOString(),
    accountId: e.accountId,
    aggregateId: e.aggregateId,
    traceId: currentTraceId(),
    data: e.data,
  };
  await manager.query(
    `INSERT INTO outbox (id, topic, key, event_type, payload, headers) VALUES ($1, $2, $3, $4, $5, $6)`,
    [envelope.id, event.topic, e.aggregateId, event.type, JSON.stringify(envelope), JSON.stringify(envelopeHeaders(envelope))],
  );
  return envelope;
}

export const envelopeHeaders = (e: EventEnvelope): Record<string, string> => ({
  'event-id': e.id,
  'event-type': e.type,
  'event-version': String(e.version),
  'account-id': e.accountId,
  'trace-id': e.traceId,
});
