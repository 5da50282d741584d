/**
 * Dead letters, for operators:
 *   npm run dlq -- list <topic> [--group <g>] [--json]    every dead letter: where, whose, why
 *   npm run dlq -- replay <topic> --group <g> [--json]    send a group's dead letters back through its retries
 * <topic> is the original topic (papka.contractors.v1), its .dlq, or a short name (contractors,
 * render-requests). Against KAFKA_BROKERS (comma-separated; default 127.0.0.1:9092).
 * A replay reads the DLQ up to its end offsets taken at the start, skips (and prints) records
 * that can never succeed, and goes on where the previous replay of the group stopped.
 */
import { parseArgs } from 'node:util';
import { Topics } from '@papka/contracts';
import { KafkaEventBus } from '../bus/kafka.event-bus';
import { listDeadLetters, replayDeadLetters, type DeadLetter } from '../consumer/dlq-replay';

const USAGE = 'usage: npm run dlq -- list <topic> [--group <g>] [--json]\n       npm run dlq -- replay <topic> --group <g> [--json]\n';

/** papka.contractors.v1, papka.contractors.v1.dlq and contractors all name papka.contractors.v1. */
export function originalTopic(arg: string): string {
  const topic = arg.replace(/\.dlq$/, '');
  const known: string[] = Object.values(Topics);
  return known.includes(topic) ? topic : known.includes(`papka.${topic}.v1`) ? `papka.${topic}.v1` : topic;
}

/** `k=v` pairs; values with spaces or quotes are JSON-quoted, missing ones are `-`. */
const fields = (pairs: [string, string | number | null][]) =>
  pairs.map(([k, v]) => `${k}=${v === null || v === '' ? '-' : /[\s"=]/.test(String(v)) ? JSON.stringify(String(v)) : String(v)}`).join(' ');

const describe = (d: DeadLetter) =>
  fields([
    ['partition', d.partition],
    ['offset', d.offset],
    ['group', d.group],
    ['attempts', d.attempts],
    ['type', d.eventType],
    ['id', d.eventId],
    ['failedAt', d.failedAt],
    ['from', d.originalPartition === null ? null : `${d.originalTopic ?? '?'}/${d.originalPartition}/${d.originalOffset ?? '?'}`],
    ['error', d.error],
  ]);

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      group: { type: 'string', short: 'g' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, topicArg] = positionals;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!topicArg || positionals.length > 2 || (command !== 'list' && command !== 'replay') || (command === 'replay' && !values.group)) {
    process.stderr.write(USAGE);
    return 2;
  }
  const topic = originalTopic(topicArg);
  const bus = new KafkaEventBus({
    brokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim()),
    clientId: 'papka-dlq-cli',
    // kafkajs' own logs only with DEBUG set; a failure is reported once, below.
    log: (level, message) => {
      if (process.env.DEBUG) process.stderr.write(`${level}: ${message}\n`);
    },
  });
  try {
    if (command === 'list') {
      const letters = await listDeadLetters({ bus, topic, groupId: values.group });
      for (const d of letters) process.stdout.write(`${values.json ? JSON.stringify(d) : describe(d)}\n`);
      if (!values.json) process.stdout.write(`${letters.length} dead letter(s) in ${topic}.dlq${values.group ? ` of group ${values.group}` : ''}\n`);
      return 0;
    }
    const result = await replayDeadLetters({ bus, topic, groupId: values.group! });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    for (const s of result.skipped) process.stdout.write(`skipped ${fields([['partition', s.partition], ['offset', s.offset], ['reason', s.reason]])}\n`);
    const upTo = result.endOffsets.map((e) => `${e.partition}:${e.offset}`).join(',');
    process.stdout.write(`replayed=${result.replayed} skipped=${result.skipped.length} (${topic}.dlq up to ${upTo}, group ${values.group})\n`);
    return 0;
  } catch (err) {
    throw new Error(`${topic}.dlq: ${(err as Error).message}`);
  } finally {
    await bus.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`dlq: ${err.message}\n`);
      process.exit(1);
    },
  );
}
