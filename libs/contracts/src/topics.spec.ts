import { dlqTopic, retryTopic, SNAPSHOT_TOPICS, topicConfig, Topics } from './topics';

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
