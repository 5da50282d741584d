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

function assertInTransaction(manager: EntityManager, type: string): void {
  if (!manager.queryRunner?.isTransactionActive) {
    // An outbox write outside a transaction could publish a change that then rolls back.
    throw new Error(`writeToOutbox(${type}) must run inside a transaction`);
  }
}

function envelopeOf<TData, TType extends string>(event: EventDefinition<TData, TType>, e: NewEvent<TData>): EventEnvelope<TData, TType> {
  return {
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
}

/** Builds the envelope and stores it in the outbox, inside the caller's transaction. */
export async function writeToOutbox<TData, TType extends string>(
  manager: EntityManager,
  event: EventDefinition<TData, TType>,
  e: NewEvent<TData>,
): Promise<EventEnvelope<TData, TType>> {
  assertInTransaction(manager, event.type);
  return (await writeWithEvent(manager, ALWAYS, event, e)).envelope!;
}

/** A change that always returns a row and changes nothing: {@link writeWithEvent} of the event alone. */
const ALWAYS: Statement = { sql: 'SELECT 1 AS one', params: [] };

/** One SQL statement and its parameters ($1..$n), as a repository builds it for {@link writeWithEvent}. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** What runs a statement: a DataSource (autocommit) or an EntityManager. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * `change`, a data-modifying statement with RETURNING, and the event, written only if the change
 * returned a row, as one statement: PostgreSQL runs it atomically, so outside a transaction it
 * needs no BEGIN and COMMIT round trips (see Commands.runOne); {@link writeToOutbox} is this with
 * a change that always returns a row. Answers the change's rows and the envelope (null: nothing
 * changed, nothing written).
 */
export async function writeWithEvent<TRow, TData, TType extends string>(
  runner: Queryable,
  change: Statement,
  event: EventDefinition<TData, TType>,
  e: NewEvent<TData>,
): Promise<{ rows: TRow[]; envelope: EventEnvelope<TData, TType> | null }> {
  const envelope = envelopeOf(event, e);
  const traceHeaders = outboxTraceHeaders(event.type, event.topic, envelope.id);
  // The aggregate's next sequence number, taken in the same statement as the outbox row: its
  // aggregate_sequence row stays locked until the commit, so two transactions on one aggregate
  // get their numbers in commit order.
  const n = change.params.length;
  const p = (k: number) => `$${n + k}`;
  const rows = (await runner.query(
    `WITH c AS (${change.sql}),
          s AS (
            INSERT INTO aggregate_sequence (aggregate_id, seq) SELECT ${p(3)}::text, 1 WHERE EXISTS (SELECT 1 FROM c)
            ON CONFLICT (aggregate_id) DO UPDATE SET seq = aggregate_sequence.seq + 1 RETURNING seq
          ),
          o AS (
            INSERT INTO outbox (id, topic, key, event_type, payload, headers)
            SELECT ${p(1)}::uuid, ${p(2)}::text, ${p(3)}::text, ${p(4)}::text, jsonb_set(${p(5)}::jsonb, '{sequence}', to_jsonb(s.seq)), jsonb_set(${p(6)}::jsonb, '{event-sequence}', to_jsonb(s.seq::text)) FROM s
            RETURNING (payload->>'sequence')::int AS sequence
          )
     SELECT c.*, (SELECT sequence FROM o) AS outbox_sequence FROM c`,
    [...change.params, envelope.id, event.topic, e.aggregateId, event.type, JSON.stringify(envelope), JSON.stringify(envelopeHeaders(envelope, traceHeaders))],
  )) as (TRow & { outbox_sequence: number | null })[];
  if (rows.length === 0) return { rows: [], envelope: null };
  envelope.sequence = rows[0]!.outbox_sequence!;
  return { rows: rows.map(({ outbox_sequence: _, ...row }) => row as unknown as TRow), envelope };
}

/**
 * {@link writeToOutbox} for many events of one type in one statement per round (each round's
 * aggregates distinct: ON CONFLICT cannot touch one sequence row twice in a statement), in the
 * order given within an aggregate. The rows are written in aggregate order, so transactions that
 * share aggregates take their sequence rows' locks in the same order and cannot deadlock on them.
 */
export async function writeManyToOutbox<TData, TType extends string>(
  manager: EntityManager,
  event: EventDefinition<TData, TType>,
  events: NewEvent<TData>[],
): Promise<EventEnvelope<TData, TType>[]> {
  assertInTransaction(manager, event.type);
  const envelopes = events.map((e) => envelopeOf(event, e));
  let rest = envelopes.map((envelope, n) => ({ envelope, n }));
  while (rest.length > 0) {
    const seen = new Set<string>();
    const round = rest.filter((x) => !seen.has(x.envelope.aggregateId) && seen.add(x.envelope.aggregateId)).sort((a, b) => (a.envelope.aggregateId < b.envelope.aggregateId ? -1 : a.envelope.aggregateId > b.envelope.aggregateId ? 1 : 0));
    const taken = new Set(round.map((x) => x.n));
    rest = rest.filter((x) => !taken.has(x.n));
    const rows = (await manager.query(
      `WITH x AS (SELECT * FROM unnest($3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[]) WITH ORDINALITY AS x(id, key, payload, headers, ord)),
            s AS (
              INSERT INTO aggregate_sequence (aggregate_id, seq) SELECT key, 1 FROM x ORDER BY ord
              ON CONFLICT (aggregate_id) DO UPDATE SET seq = aggregate_sequence.seq + 1 RETURNING aggregate_id, seq
            )
       INSERT INTO outbox (id, topic, key, event_type, payload, headers)
       SELECT x.id, $1, x.key, $2, jsonb_set(x.payload, '{sequence}', to_jsonb(s.seq)), jsonb_set(x.headers, '{event-sequence}', to_jsonb(s.seq::text))
         FROM x JOIN s ON s.aggregate_id = x.key ORDER BY x.ord
       RETURNING id, (payload->>'sequence')::int AS sequence`,
      [
        event.topic,
        event.type,
        round.map((x) => x.envelope.id),
        round.map((x) => x.envelope.aggregateId),
        round.map((x) => JSON.stringify(x.envelope)),
        round.map((x) => JSON.stringify(envelopeHeaders(x.envelope, outboxTraceHeaders(event.type, event.topic, x.envelope.id)))),
      ],
    )) as { id: string; sequence: number }[];
    const sequences = new Map(rows.map((r) => [r.id, r.sequence]));
    for (const { envelope } of round) envelope.sequence = sequences.get(envelope.id);
  }
  return envelopes;
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
