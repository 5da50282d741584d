import { InProcessEventBus } from './in-process.event-bus';
import type { IncomingRecord } from './event-bus';

const until = async (check: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe(InProcessEventBus.name, () => {
  it('delivers in publish order to every group, each with its own offsets', async () => {
    const sut = new InProcessEventBus(10);
    const a: string[] = [];
    const b: string[] = [];
    await sut.subscribe({ groupId: 'a', topics: ['t'], handler: async (r) => void a.push(r.value!.toString()) });
    await sut.publish([1, 2, 3].map((n) => ({ topic: 't', key: 'k', value: `m${n}` })));
    await sut.subscribe({ groupId: 'b', topics: ['t'], handler: async (r) => void b.push(r.value!.toString()) });
    await until(() => a.length === 3 && b.length === 3);
    expect(a).toEqual(['m1', 'm2', 'm3']);
    expect(b).toEqual(['m1', 'm2', 'm3']);
    await sut.close();
  });

  it('redelivers a record whose handler failed, and only then moves on', async () => {
    const sut = new InProcessEventBus(5);
    const seen: string[] = [];
    let failures = 2;
    await sut.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (r: IncomingRecord) => {
        seen.push(r.value!.toString());
        if (r.value!.toString() === 'first' && failures-- > 0) throw new Error('not yet');
      },
    });
    await sut.publish([
      { topic: 't', key: 'k', value: 'first' },
      { topic: 't', key: 'k', value: 'second' },
    ]);
    await until(() => seen.includes('second'));
    expect(seen).toEqual(['first', 'first', 'first', 'second']);
    await sut.close();
  });

  it('stops delivering after the subscription is closed', async () => {
    const sut = new InProcessEventBus(5);
    const seen: string[] = [];
    const sub = await sut.subscribe({ groupId: 'g', topics: ['t'], handler: async (r) => void seen.push(r.value!.toString()) });
    await sut.publish([{ topic: 't', key: 'k', value: 'one' }]);
    await until(() => seen.length === 1);
    await sub.close();
    await sut.publish([{ topic: 't', key: 'k', value: 'two' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['one']);
  });
});
