import type { DataSource, EntityManager } from 'typeorm';
import type { EventDefinition, EventEnvelope } from '@papka/contracts';
import type { OutboxRelay } from './outbox.relay';
import { writeManyToOutbox, writeToOutbox, writeWithEvent, type Statement } from './outbox.writer';

/** What a command (or an event handler) writes through: its transaction and its events. */
export interface CommandTx {
  /** The transaction: pass it to repository methods. */
  readonly manager: EntityManager;
  readonly accountId: string;
  /**
   * Stores the event in the outbox in this transaction; the relay publishes it right after the
   * commit. `accountId` defaults to the command's (a handler may emit for another aggregate's).
   */
  emit<TData, TType extends string>(
    event: EventDefinition<TData, TType>,
    aggregateId: string,
    data: TData,
    accountId?: string,
  ): Promise<EventEnvelope<TData, TType>>;
  /**
   * `change` (a data-modifying statement with RETURNING, from a repository) and, if it returned a
   * row, the event, in one statement (see writeWithEvent). Answers the change's rows.
   */
  write<TRow, TData, TType extends string>(
    change: Statement,
    event: EventDefinition<TData, TType>,
    aggregateId: string,
    data: TData,
  ): Promise<{ rows: TRow[]; envelope: EventEnvelope<TData, TType> | null }>;
  /** {@link emit} of many events of one type (say, one per record of a batch), in one statement. */
  emitMany<TData, TType extends string>(
    event: EventDefinition<TData, TType>,
    events: { aggregateId: string; data: TData; accountId?: string }[],
  ): Promise<EventEnvelope<TData, TType>[]>;
}

/**
 * A CommandTx over `manager`; `onEmit` is called once per event written. For code that already
 * owns a transaction (the event consumer); services use {@link Commands.run}.
 */
export function commandTx(manager: EntityManager, accountId: string, onEmit: () => void): CommandTx {
  return {
    manager,
    accountId,
    async emit(event, aggregateId, data, account = accountId) {
      const envelope = await writeToOutbox(manager, event, { accountId: account, aggregateId, data });
      onEmit();
      return envelope;
    },
    async write<TRow, TData, TType extends string>(change: Statement, event: EventDefinition<TData, TType>, aggregateId: string, data: TData) {
      const written = await writeWithEvent<TRow, TData, TType>(manager, change, event, { accountId, aggregateId, data });
      if (written.envelope) onEmit();
      return written;
    },
    async emitMany(event, events) {
      if (events.length === 0) return [];
      const envelopes = await writeManyToOutbox(manager, event, events.map((e) => ({ accountId: e.accountId ?? accountId, aggregateId: e.aggregateId, data: e.data })));
      onEmit();
      return envelopes;
    },
  };
}

/**
 * The one way to change state and announce it: `commands.run(accountId, async (t) => { ...;
 * await t.emit(Event, id, data) })` runs in one transaction, and once it has committed the outbox
 * relay is woken, so events go out at once and no caller has to remember to kick it. A rollback
 * writes and publishes nothing.
 */
export class Commands {
  constructor(
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
  ) {}

  async run<T>(accountId: string, fn: (t: CommandTx) => Promise<T>): Promise<T> {
    let emitted = false;
    const result = await this.dataSource.transaction((m) => fn(commandTx(m, accountId, () => (emitted = true))));
    if (emitted) this.relay.kick();
    return result;
  }

  /**
   * A command that is one write with its event built before it: {@link CommandTx.write} with no
   * transaction around it (four round trips to one). For hot paths: the event cannot depend on
   * what the write returns, so a change to a row read earlier must guard against the row having
   * moved since (and the caller fall back to {@link run} when it changed nothing). Answers the
   * change's rows ([]: nothing written).
   */
  async runOne<TRow, TData, TType extends string>(
    accountId: string,
    change: Statement,
    event: EventDefinition<TData, TType>,
    aggregateId: string,
    data: TData,
  ): Promise<{ rows: TRow[]; envelope: EventEnvelope<TData, TType> | null }> {
    const written = await writeWithEvent<TRow, TData, TType>(this.dataSource, change, event, { accountId, aggregateId, data });
    if (written.envelope) this.relay.kick();
    return written;
  }
}
