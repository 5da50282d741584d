import { dlqTopic, retryTopic } from '@papka/contracts';
import type { EventBus, IncomingRecord } from '../bus/event-bus';
import { FailureHeaders } from './event-consumer';

export interface ReplayOptions {
  bus: EventBus;
  /** The original topic, e.g. papka.contractors.v1. */
  topic: string;
  /** The consumer group whose dead letters to replay. */
  groupId: string;
  /** Stop after this long without a new dead letter. */
  idleMs?: number;
}

/**
 * Sends a group's dead letters back through its retry path (attempt count reset). Events the
 * group has handled since are no-ops thanks to the inbox. Each dead letter is replayed once
 * per replay group offset, so running it twice does not duplicate work.
 */
export async function replayDeadLetters(o: ReplayOptions): Promise<number> {
  let replayed = 0;
  let last = Date.now();
  const sub = await o.bus.subscribe({
    groupId: `${o.groupId}.dlq-replay`,
    topics: [dlqTopic(o.topic)],
    handler: async (r: IncomingRecord) => {
      last = Date.now();
      if (r.headers[FailureHeaders.consumerGroup] !== o.groupId) return;
      await o.bus.publish([
        {
          topic: retryTopic(o.topic),
          key: r.key ?? '',
          value: r.value?.toString('utf8') ?? '',
          headers: { ...r.headers, [FailureHeaders.attempts]: '0', [FailureHeaders.notBefore]: '0' },
        },
      ]);
      replayed++;
    },
  });
  const idle = o.idleMs ?? 5_000;
  while (Date.now() - last < idle) await new Promise((r) => setTimeout(r, 250));
  await sub.close();
  return replayed;
}
