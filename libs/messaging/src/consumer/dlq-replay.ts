import { dlqTopic, isEventEnvelope, RETRY_TIERS_MS, retryTierTopic, type EventEnvelope } from '@papka/contracts';
import type { EventBus, IncomingRecord, PartitionOffset } from '../bus/event-bus';
import { FailureHeaders } from './event-consumer';

export interface ReplayOptions {
  bus: EventBus;
  /** The original topic, e.g. papka.contractors.v1. */
  topic: string;
  /** The consumer group whose dead letters to replay. */
  groupId: string;
  /** Gives up if nothing of the DLQ is read for this long before its end offsets (default 60 s). */
  timeoutMs?: number;
}

/** A dead letter that was not replayed, because it can never succeed. */
export interface SkippedDeadLetter {
  partition: number;
  offset: string;
  reason: string;
}

export interface ReplayResult {
  /** Dead letters sent back through the group's retry path. */
  replayed: number;
  /** Dead letters of the group that were not (a record that is not an event envelope). */
  skipped: SkippedDeadLetter[];
  /** The DLQ's end offsets taken at the start: nothing at or after them was read. */
  endOffsets: PartitionOffset[];
}

/** A dead letter as `list` shows it. */
export interface DeadLetter {
  partition: number;
  offset: string;
  group: string | null;
  attempts: string | null;
  error: string | null;
  failedAt: string | null;
  originalTopic: string | null;
  originalPartition: string | null;
  originalOffset: string | null;
  /** The event's type and id, or null when the record is not a valid event envelope. */
  eventType: string | null;
  eventId: string | null;
}

const NOT_AN_ENVELOPE = 'not a valid event envelope';

function envelopeOf(r: IncomingRecord): EventEnvelope | null {
  try {
    const value: unknown = JSON.parse(r.value?.toString('utf8') ?? '');
    return isEventEnvelope(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Sends a group's dead letters back through its retry path (the first retry tier, attempt
 * count reset). Reads the DLQ only up to the end offsets taken at its start, so a record that
 * fails again and lands in the DLQ again is not replayed again in the same run. A record that
 * can never succeed (not an event envelope) is skipped and reported, never replayed. Progress is
 * the committed offset of group `<groupId>.dlq-replay`: a second run replays only dead letters
 * written since. Events the group has handled since are no-ops thanks to the inbox.
 */
export async function replayDeadLetters(o: ReplayOptions): Promise<ReplayResult> {
  const dlq = dlqTopic(o.topic);
  const endOffsets = await o.bus.endOffsets(dlq);
  const result: ReplayResult = { replayed: 0, skipped: [], endOffsets };
  await o.bus.readUntil({
    topic: dlq,
    until: endOffsets,
    groupId: `${o.groupId}.dlq-replay`,
    timeoutMs: o.timeoutMs,
    handler: async (r) => {
      if (r.headers[FailureHeaders.consumerGroup] !== o.groupId) return;
      if (!envelopeOf(r)) {
        result.skipped.push({ partition: r.partition, offset: r.offset, reason: NOT_AN_ENVELOPE });
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(r.headers).filter(([k]) => k !== FailureHeaders.notBefore && k !== FailureHeaders.dueAt),
      );
      await o.bus.publish([
        {
          topic: retryTierTopic(o.topic, RETRY_TIERS_MS[0]!),
          key: r.key ?? '',
          value: r.value?.toString('utf8') ?? '',
          headers: { ...headers, [FailureHeaders.attempts]: '0', [FailureHeaders.notBefore]: String(Date.now()) },
        },
      ]);
      result.replayed++;
    },
  });
  return result;
}

/** The dead letters of a topic (all groups, or one), from the earliest kept to the end offsets now; commits nothing. */
export async function listDeadLetters(o: { bus: EventBus; topic: string; groupId?: string; timeoutMs?: number }): Promise<DeadLetter[]> {
  const dlq = dlqTopic(o.topic);
  const out: DeadLetter[] = [];
  await o.bus.readUntil({
    topic: dlq,
    until: await o.bus.endOffsets(dlq),
    timeoutMs: o.timeoutMs,
    handler: async (r) => {
      const h = r.headers;
      const group = h[FailureHeaders.consumerGroup] ?? null;
      if (o.groupId !== undefined && group !== o.groupId) return;
      const envelope = envelopeOf(r);
      out.push({
        partition: r.partition,
        offset: r.offset,
        group,
        attempts: h[FailureHeaders.attempts] ?? null,
        error: h[FailureHeaders.error] ?? null,
        failedAt: h[FailureHeaders.failedAt] ?? null,
        originalTopic: h[FailureHeaders.originalTopic] ?? null,
        originalPartition: h[FailureHeaders.originalPartition] ?? null,
        originalOffset: h[FailureHeaders.originalOffset] ?? null,
        eventType: envelope?.type ?? null,
        eventId: envelope?.id ?? null,
      });
    },
  });
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
