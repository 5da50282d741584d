import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EventDefinition, EventEnvelope } from '@papka/contracts';
import { currentTraceId } from '../trace';
import { activeTraceId, outboxTraceHeaders } from '../tracing';

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
    // Inside a span, the W3C trace id (the trace a tracing backend shows; the request id is an
    // attribute of the service's server span); else the request id, as before tracing.
    traceId: activeTraceId() ?? currentTraceId(),
    data: e.data,
  };
  const traceHeaders = outboxTraceHeaders(event.type, event.topic, envelope.id);
  // The aggregate's next sequence number, taken in this transaction (one statement with the
  // outbox row): its aggregate_sequence row stays locked until the commit, so two transactions
  // on one aggregate get their numbers in commit order.
  const [{ sequence }] = (await manager.query(
    `WITH s AS (
       INSERT INTO aggregate_sequence (aggregate_id, seq) VALUES ($3, 1)
       ON CONFLICT (aggregate_id) DO UPDATE SET seq = aggregate_sequence.seq + 1 RETURNING seq
     )
     INSERT INTO outbox (id, topic, key, event_type, payload, headers)
     SELECT $1, $2, $3, $4, jsonb_set($5::jsonb, '{sequence}', to_jsonb(s.seq)), jsonb_set($6::jsonb, '{event-sequence}', to_jsonb(s.seq::text)) FROM s
     RETURNING (payload->>'sequence')::int AS sequence`,
    [envelope.id, event.topic, e.aggregateId, event.type, JSON.stringify(envelope), JSON.stringify(envelopeHeaders(envelope, traceHeaders))],
  )) as { sequence: number }[];
  envelope.sequence = sequence;
  return envelope;
}

/** The record headers of an event; `trace`: its `traceparent`/`tracestate` (outboxTraceHeaders), published as they are. */
export const envelopeHeaders = (e: EventEnvelope, trace: Record<string, string> = {}): Record<string, string> => ({
  'event-id': e.id,
  'event-type': e.type,
  'event-version': String(e.version),
  'account-id': e.accountId,
  ...(e.sequence === undefined ? {} : { 'event-sequence': String(e.sequence) }),
  'trace-id': e.traceId,
  ...trace,
});
