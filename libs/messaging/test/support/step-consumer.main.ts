/**
 * A consumer in its own process, for consumer-batches.int-spec.ts: EventConsumer over Kafka with
 * {@link applyStep} as its handler. With `KILL_ON=<step name>` it SIGKILLs itself inside that
 * step's handler: a crash mid-batch, with a transaction open and earlier ones committed but
 * their offsets not yet. Prints "consuming" once in its group; SIGTERM stops it gracefully.
 */
import { createDataSource } from '@papka/persistence';
import { EventConsumer, KafkaEventBus, messagingEntities } from '../../src';
import { applyStep, type Step } from './ordered-effects';

async function main(): Promise<void> {
  const env = process.env;
  const ds = createDataSource({ url: env.DATABASE_URL!, entities: messagingEntities, migrations: [], migrationsTableName: 'm' });
  await ds.initialize();
  const bus = new KafkaEventBus({ brokers: env.KAFKA_BROKERS!.split(','), clientId: 'test-step-consumer', partitions: Number(env.PARTITIONS ?? 3) });
  const consumer = new EventConsumer({
    bus,
    dataSource: ds,
    groupId: env.GROUP!,
    topics: [env.TOPIC!],
    handles: () => true,
    // Small transactions in a run of 100: at a crash some are committed, their offsets not.
    maxPerTransaction: 5,
    maxBatch: 100,
    dispatch: async (e, ctx) => {
      if (env.KILL_ON && (e.data as Step).name === env.KILL_ON) process.kill(process.pid, 'SIGKILL');
      await applyStep(e, ctx);
    },
  });
  await consumer.start();
  process.stdout.write('consuming\n');
  process.once('SIGTERM', () => {
    void (async () => {
      await consumer.stop();
      await bus.close();
      await ds.destroy();
      process.exit(0);
    })();
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
