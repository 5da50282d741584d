/**
 * kafkajs 2.2.4's request queue, as patched by `patches/kafkajs+2.2.4.patch` (applied by
 * patch-package on `npm install` / `npm ci`). Unpatched, a queue with nothing pending scheduled
 * a check with a negative delay (1 ms), and that check scheduled the next: every open broker
 * connection spun a 1 ms timer loop, CPU the renderer needs (tulios/kafkajs#1556, #1704).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (opts: object) => {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
  destroy(): void;
};

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

type Queue = InstanceType<typeof RequestQueue>;
const made: Queue[] = [];

function queue(): Queue {
  const q = new RequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 'spec', broker: 'spec:9092', logger });
  made.push(q);
  return q;
}

// A failed assertion must not leave a queue's timer loop running (unpatched, it would keep jest
// from exiting instead of letting it report the failure).
afterEach(() => {
  for (const q of made.splice(0)) {
    q.pending.length = 0;
    if (q.throttleCheckTimeoutId) clearTimeout(q.throttleCheckTimeoutId);
    q.throttleCheckTimeoutId = null;
    q.destroy();
  }
});

describe('kafkajs request queue (patched)', () => {
  it('schedules no check when nothing is pending, so an idle connection runs no timer', () => {
    const q = queue();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still schedules a check for a request waiting out a throttle', () => {
    jest.useFakeTimers();
    try {
      const q = queue();
      const checked = jest.spyOn(q, 'checkPendingRequests');
      q.throttledUntil = Date.now() + 500;
      q.pending.push({ correlationId: 1 });
      q.scheduleCheckPendingRequests();
      expect(q.throttleCheckTimeoutId).not.toBeNull();
      jest.advanceTimersByTime(499);
      expect(checked).not.toHaveBeenCalled();
      // the check runs once the throttle has passed (the request itself is not sendable here)
      q.pending.length = 0;
      jest.advanceTimersByTime(1);
      expect(checked).toHaveBeenCalledTimes(1);
      expect(q.throttleCheckTimeoutId).toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });
});
