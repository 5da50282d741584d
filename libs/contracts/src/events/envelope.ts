/**
 * The envelope every event travels in. The Kafka key is `aggregateId`, so events of one
 * aggregate keep their order. `data` is the full current snapshot of the aggregate, so
 * replicas never need to call the owning service back.
 */
export interface EventEnvelope<TData = unknown, TType extends string = string> {
  id: string;
  type: TType;
  version: number;
  occurredAt: string;
  accountId: string;
  aggregateId: string;
  /**
   * The aggregate's event number, assigned in the producer's transaction (1, 2, 3, ... per
   * aggregateId). Replicas order updates by it, never by `occurredAt`: a wall clock can be skewed
   * or wrong. Absent on events written before it existed (read as 0).
   */
  sequence?: number;
  traceId: string;
  data: TData;
}

/** Describes one event in the catalog: its type name, version and topic. */
export interface EventDefinition<TData, TType extends string = string> {
  readonly type: TType;
  readonly version: number;
  readonly topic: string;
  /** Phantom field: carries the payload type only. */
  readonly __data?: TData;
}

export const defineEvent = <TData, TType extends string = string>(
  type: TType,
  version: number,
  topic: string,
): EventDefinition<TData, TType> => ({ type, version, topic });

export type EventData<E> = E extends EventDefinition<infer D> ? D : never;

/**
 * The envelope a handler of `E` receives; distributes over a union, so a handler of several
 * events takes `EnvelopeOf<typeof A | typeof B>` and TypeScript narrows on `e.type`.
 */
export type EnvelopeOf<E> = E extends EventDefinition<infer D, infer T> ? EventEnvelope<D, T> : never;

export function isEventEnvelope(value: unknown): value is EventEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    typeof v.type === 'string' &&
    typeof v.version === 'number' &&
    typeof v.accountId === 'string' &&
    typeof v.aggregateId === 'string' &&
    'data' in v
  );
}
