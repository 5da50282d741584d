import { KafkaJSNonRetriableError } from 'kafkajs';
import { restartable } from './kafka.event-bus';

/**
 * kafkajs restarts a consumer whose batch kept failing, unless the error or its cause is marked
 * `retriable: false`: then the consumer stops for good. What a batch throws goes up restartable.
 */
describe('restartable', () => {
  /** As kafkajs makes a broker's refusal (KafkaJSProtocolError). */
  const protocolError = (type: string, retriable: boolean, message: string) => Object.assign(new Error(message), { name: 'KafkaJSProtocolError', type, retriable });
  const tooLarge = () => protocolError('MESSAGE_TOO_LARGE', false, 'The request included a message larger than the max message size the server will accept');

  it('turns a non-retriable error, or one caused by it, into a plain one with its message and stack', () => {
    const cause = tooLarge();
    for (const err of [cause, new KafkaJSNonRetriableError(cause)]) {
      const out = restartable(err) as Error & { retriable?: boolean; cause?: unknown };
      expect(out).not.toBe(err);
      expect(out.retriable).toBeUndefined();
      expect(out.cause).toBeUndefined();
      expect(out.message).toContain('larger than the max message size');
      expect(out.stack).toBe(err.stack);
    }
  });

  it('leaves any other error as it is', () => {
    const plain = new Error('handler failed');
    const retriable = protocolError('NOT_LEADER_FOR_PARTITION', true, 'not the leader');
    expect(restartable(plain)).toBe(plain);
    expect(restartable(retriable)).toBe(retriable);
  });
});
