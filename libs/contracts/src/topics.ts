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
