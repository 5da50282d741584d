/** Every Kafka topic Papka uses, in one place. Topics are per aggregate and versioned. */
export const Topics = {
  contractors: 'papka.contractors.v1',
  documents: 'papka.documents.v1',
  interactions: 'papka.interactions.v1',
  renderRequests: 'papka.render-requests.v1',
  finance: 'papka.finance.v1',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

/**
 * The legacy single retry topic, `<topic>.retry`: records waited there for their `x-not-before`,
 * so one due in 30 s waited behind one due in 120 s. Nothing is written to it any more; consumers
 * still drain it (records in flight during an upgrade), so it is still provisioned.
 */
export const retryTopic = (topic: string): string => `${topic}.retry`;
export const dlqTopic = (topic: string): string => `${topic}.dlq`;

/**
 * The retry delays, one topic each (as Spring's `@RetryableTopic`): `<topic>.retry.<n>s`. Within a
 * tier every record waits the same delay, so its order is its due order and no record waits
 * behind a longer back-off. A fixed ladder, not one derived from each consumer's RetryPolicy, so
 * provisioning (docker-compose kafka-init, k8s/optional/kafka-topics.yaml) can list the topics:
 * a policy's delay is served by the smallest tier at least as long ({@link retryTierFor}); a delay
 * longer than the last tier hops through the last tier again until it is due.
 */
export const RETRY_TIERS_MS: readonly number[] = [1_000, 5_000, 15_000, 30_000, 120_000, 300_000];

/** The tier that serves a back-off of `delayMs`: the smallest one at least as long (the last one for longer delays). */
export const retryTierFor = (delayMs: number): number =>
  RETRY_TIERS_MS.find((tier) => tier >= delayMs) ?? RETRY_TIERS_MS[RETRY_TIERS_MS.length - 1]!;

/** `<topic>.retry.<seconds>s`, e.g. `papka.contractors.v1.retry.30s`. */
export const retryTierTopic = (topic: string, tierMs: number): string => `${topic}.retry.${tierMs / 1000}s`;

/** The retry-tier topics of a topic, shortest delay first. */
export const retryTierTopics = (topic: string): string[] => RETRY_TIERS_MS.map((tier) => retryTierTopic(topic, tier));

/** A topic with its companions: the retry tiers, the legacy `.retry` and the `.dlq`. */
export const companionTopics = (topic: string): string[] => [topic, ...retryTierTopics(topic), retryTopic(topic), dlqTopic(topic)];

/** All topics with their retry-tier, legacy `.retry` and `.dlq` companions (for provisioning). */
export const allTopics = (): string[] => Object.values(Topics).flatMap(companionTopics);

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
