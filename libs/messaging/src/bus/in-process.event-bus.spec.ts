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

  it('reads up to the end offsets taken before, goes on from a group\'s last read, and never reads what the handler wrote', async () => {
    const sut = new InProcessEventBus(5);
    await sut.publish(['a', 'b'].map((value) => ({ topic: 'd', key: 'k', value })));
    const end = await sut.endOffsets('d');
    expect(end).toEqual([{ partition: 0, offset: '2' }]);
    const seen: string[] = [];
    const readAll = (groupId?: string) =>
      sut.readUntil({
        topic: 'd',
        until: end,
        groupId,
        // Writes back to the topic it reads, as a replay whose record fails again would.
        handler: async (r) => {
          seen.push(`${r.offset}:${r.value!.toString()}`);
          await sut.publish([{ topic: 'd', key: 'k', value: `${r.value!.toString()}'` }]);
        },
      });
    await readAll('g');
    expect(seen).toEqual(['0:a', '1:b']);
    await readAll('g'); // nothing new for g up to those offsets
    expect(seen).toEqual(['0:a', '1:b']);
    await readAll(); // a listing: from the earliest, commits nothing
    expect(seen).toEqual(['0:a', '1:b', '0:a', '1:b']);
    expect(await sut.endOffsets('d')).toEqual([{ partition: 0, offset: '6' }]);
  });

  it('with concurrency, a slow record of one topic does not hold up the others', async () => {
    const sut = new InProcessEventBus(5);
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    await sut.subscribe({
      groupId: 'g',
      topics: ['slow', 'fast'],
      concurrency: 2,
      handler: async (r) => {
        if (r.topic === 'slow') await slow;
        seen.push(r.value!.toString());
      },
    });
    await sut.publish([
      { topic: 'slow', key: 'k', value: 'waiting' },
      { topic: 'fast', key: 'k', value: 'quick' },
    ]);
    await until(() => seen.includes('quick'));
    release();
    await until(() => seen.includes('waiting'));
    expect(seen).toEqual(['quick', 'waiting']);
    await sut.close();
  });

  it("closes one service's handle without stopping another service's consumers", async () => {
    const sut = new InProcessEventBus(5);
    const [first, second] = [sut.client(), sut.client()];
    const seen: string[] = [];
    await first.subscribe({ groupId: 'first', topics: ['t'], handler: async (r) => void seen.push(`first:${r.value!.toString()}`) });
    await second.subscribe({ groupId: 'second', topics: ['t'], handler: async (r) => void seen.push(`second:${r.value!.toString()}`) });
    await first.close();
    await second.publish([{ topic: 't', key: 'k', value: 'after' }]);
    await until(() => seen.includes('second:after'));
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toEqual(['second:after']);
    await sut.close();
  });

  it('while trimming is held, a group that subscribes after others read more than the trim still gets every record', async () => {
    const sut = new InProcessEventBus(5);
    sut.holdTrim();
    const records = Array.from({ length: 3_000 }, (_, i) => ({ topic: 't', key: 'k', value: `m${i}` }));
    sut.restore(records);
    const first: string[] = [];
    await sut.subscribe({ groupId: 'first', topics: ['t'], batchHandler: async (rs, done) => rs.forEach((r) => (first.push(r.value!.toString()), done(r))), handler: async () => undefined });
    await until(() => first.length === 3_000, 5_000);
    const late: string[] = [];
    await sut.subscribe({ groupId: 'late', topics: ['t'], batchHandler: async (rs, done) => rs.forEach((r) => (late.push(r.value!.toString()), done(r))), handler: async () => undefined });
    await until(() => late.length === 3_000, 5_000);
    expect(late[0]).toBe('m0');
    sut.releaseTrim();
    // Read by both now: trimmed, nothing pending.
    expect(sut.pending()).toEqual([]);
    expect((await sut.endOffsets('t'))[0]!.offset).toBe('3000');
    await sut.close();
  });

  it('keeps dead letters (a .dlq topic no group reads) across a stop', async () => {
    const sut = new InProcessEventBus(5);
    await sut.publish([{ topic: 'papka.t.v1.dlq', key: 'k', value: 'dead' }, { topic: 'nobody-reads', key: 'k', value: 'x' }]);
    expect(sut.pending()).toEqual([{ topic: 'papka.t.v1.dlq', key: 'k', value: 'dead' }]);
    await sut.close();
  });

  it('keeps what a closed group has not read (past the trim), and a restored bus delivers it in order', async () => {
    const sut = new InProcessEventBus(5);
    const seen = { early: [] as string[], late: [] as string[] };
    const early = await sut.subscribe({ groupId: 'early', topics: ['t'], handler: async (r) => void seen.early.push(r.value!.toString()) });
    await sut.subscribe({ groupId: 'late', topics: ['t'], handler: async (r) => void seen.late.push(r.value!.toString()) });
    await sut.publish([{ topic: 't', key: 'k', value: 'read-by-both' }]);
    await until(() => seen.early.length === 1 && seen.late.length === 1);
    await early.close();
    // More than the 1,000 consumed records past which the log is trimmed, read by `late` only.
    const later = Array.from({ length: 1_500 }, (_, i) => `m${i}`);
    await sut.publish(later.map((value) => ({ topic: 't', key: 'k', value })));
    await sut.publish([{ topic: 'nobody-reads', key: 'k', value: 'x' }]);
    await until(() => seen.late.length === 1 + later.length, 5_000);

    const pending = sut.pending();
    expect(pending.map((r) => r.value)).toEqual(later);
    await sut.close();

    const restarted = new InProcessEventBus(5);
    restarted.restore(pending);
    const again: string[] = [];
    await restarted.subscribe({ groupId: 'early', topics: ['t'], handler: async (r) => void again.push(r.value!.toString()) });
    await until(() => again.length === later.length, 5_000);
    expect(again).toEqual(later);
    // Read by every group now: nothing is left to keep.
    expect(restarted.pending()).toEqual([]);
    await restarted.close();
  });
});
