/** Every Kafka topic Papka uses, in one place. Topics are per aggregate and versioned. */
export const Topics = {
  contractors: 'papka.contractors.v1',
  documents: 'papka.documents.v1',
  interactions: 'papka.interactions.v1',
  renderRequests: 'papka.render-requests.v1',
  finance: 'papka.finance.v1',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

export const retryTopic = (topic: string): string => `${topic}.retry`;
export const dlqTopic = (topic: string): string => `${topic}.dlq`;

/** All topics with their `.retry` and `.dlq` companions (for provisioning). */
export const allTopics = (): string[] =>
  Object.values(Topics).flatMap((t) => [t, retryTopic(t), dlqTopic(t)]);

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Topics whose events carry the aggregate's full snapshot, keyed by aggregate id. They are
 * compacted: whatever the age, the latest event of every contractor, document and interaction
 * stays, so a new consumer group (a new service, a rebuilt read model) can always replay the
 * current state. Each event is kept at least a week before compaction may drop it, so a
 * consumer that was down for days still sees every change.
 */
export const SNAPSHOT_TOPICS: readonly string[] = [Topics.contractors, Topics.documents, Topics.interactions];

/** Kafka topic settings Papka creates a topic with (see also docker-compose kafka-init and k8s/optional). */
export function topicConfig(topic: string): Record<string, string> {
  // Dead letters are kept 30 days so they can be inspected and replayed.
  if (topic.endsWith('.dlq')) return { 'retention.ms': String(30 * DAY_MS) };
  if (SNAPSHOT_TOPICS.includes(topic)) return { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(7 * DAY_MS) };
  return {};
}
