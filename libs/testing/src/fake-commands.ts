import type { EntityManager } from 'typeorm';
import type { EventDefinition, EventEnvelope } from '@papka/contracts';
import type { CommandTx, Commands, Statement } from '@papka/messaging';

export interface EmittedEvent {
  type: string;
  accountId: string;
  aggregateId: string;
  data: unknown;
}

/**
 * Commands for unit specs of services: runs the command at once with `manager` (a stand-in the
 * faked repositories ignore; `write` and `runOne` run their statement through its `query`) and
 * records what it emitted. Like the real one, a command that
 * throws leaves nothing in `emitted` (its events roll back with it).
 */
export function fakeCommands(manager: EntityManager = {} as EntityManager) {
  const emitted: EmittedEvent[] = [];
  const commands = {
    async run<T>(accountId: string, fn: (t: CommandTx) => Promise<T>): Promise<T> {
      const pending: EmittedEvent[] = [];
      const tx: CommandTx = {
        manager,
        accountId,
        async emit<D, T2 extends string>(event: EventDefinition<D, T2>, aggregateId: string, data: D, account = accountId) {
          pending.push({ type: event.type, accountId: account, aggregateId, data });
          return { id: `event-${emitted.length + pending.length}`, type: event.type, version: event.version, accountId: account, aggregateId, data } as EventEnvelope<D, T2>;
        },
        // The change runs through `manager.query` (the test's stand-in for the statement).
        async write<R, D, T2 extends string>(change: Statement, event: EventDefinition<D, T2>, aggregateId: string, data: D) {
          const rows = (await manager.query(change.sql, change.params)) as R[];
          if (rows.length === 0) return { rows, envelope: null };
          return { rows, envelope: await tx.emit(event, aggregateId, data) };
        },
        async emitMany<D, T2 extends string>(event: EventDefinition<D, T2>, events: { aggregateId: string; data: D; accountId?: string }[]) {
          const out: EventEnvelope<D, T2>[] = [];
          for (const e of events) out.push(await tx.emit(event, e.aggregateId, e.data, e.accountId ?? accountId));
          return out;
        },
      };
      const result = await fn(tx);
      emitted.push(...pending);
      return result;
    },
    /** {@link CommandTx.write} as a command of its own, as the real runOne (no transaction to fake). */
    runOne<R, D, T2 extends string>(accountId: string, change: Statement, event: EventDefinition<D, T2>, aggregateId: string, data: D) {
      return commands.run(accountId, (t) => t.write<R, D, T2>(change, event, aggregateId, data));
    },
  };
  return { commands: commands as unknown as Commands, emitted, manager };
}
