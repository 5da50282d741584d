import { allTopics, companionTopics, dlqTopic, RETRY_TIERS_MS, retryTierFor, retryTierTopic, retryTierTopics, retryTopic, SNAPSHOT_TOPICS, topicConfig, Topics } from './topics';

describe('topicConfig', () => {
  it('compacts the snapshot topics and keeps a week of every event', () => {
    for (const t of [Topics.contractors, Topics.documents, Topics.interactions]) {
      expect(topicConfig(t)).toEqual({ 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '604800000' });
    }
    expect(SNAPSHOT_TOPICS).toHaveLength(3);
  });

  it('keeps dead letters 30 days and leaves the others to the broker defaults', () => {
    expect(topicConfig(dlqTopic(Topics.contractors))).toEqual({ 'retention.ms': '2592000000' });
    expect(topicConfig(retryTopic(Topics.contractors))).toEqual({});
    expect(topicConfig(Topics.renderRequests)).toEqual({});
  });
});

describe('retry tiers', () => {
  it('serves a back-off with the smallest tier at least as long, the last one beyond the ladder', () => {
    expect(RETRY_TIERS_MS).toEqual([1_000, 5_000, 15_000, 30_000, 120_000, 300_000]);
    expect([0, 1_000, 1_001, 5_000, 10_000, 30_000, 120_000, 300_000, 3_600_000].map(retryTierFor)).toEqual([
      1_000, 1_000, 5_000, 5_000, 15_000, 30_000, 120_000, 300_000, 300_000,
    ]);
  });

  it('names one topic per tier and provisions the tiers, the legacy .retry and the .dlq of every topic', () => {
    expect(retryTierTopic(Topics.contractors, 30_000)).toBe('papka.contractors.v1.retry.30s');
    expect(companionTopics(Topics.finance)).toEqual([
      'papka.finance.v1',
      'papka.finance.v1.retry.1s',
      'papka.finance.v1.retry.5s',
      'papka.finance.v1.retry.15s',
      'papka.finance.v1.retry.30s',
      'papka.finance.v1.retry.120s',
      'papka.finance.v1.retry.300s',
      'papka.finance.v1.retry',
      'papka.finance.v1.dlq',
    ]);
    expect(allTopics()).toHaveLength(Object.keys(Topics).length * 9);
    expect(new Set(allTopics()).size).toBe(allTopics().length);
    for (const t of retryTierTopics(Topics.contractors)) expect(topicConfig(t)).toEqual({});
  });
});
