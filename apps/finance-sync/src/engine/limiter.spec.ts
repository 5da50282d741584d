import { MethodLimiter } from './limiter';

describe(MethodLimiter.name, () => {
  let now = 0;
  const sut = () => new MethodLimiter([100, 1000], () => now);

  beforeEach(() => (now = 0));

  it('lets calls through until a 429, then blocks that method only', () => {
    const l = sut();
    expect(l.take('a')).toBe(true);
    l.limited('a');
    expect(l.take('a')).toBe(false);
    expect(l.take('b')).toBe(true);
  });

  it('allows exactly one probe per back-off step, and the steps grow', () => {
    const l = sut();
    l.limited('a');
    now = 100;
    expect(l.take('a')).toBe(true);
    expect(l.take('a')).toBe(false);
    l.limited('a');
    now = 1099;
    expect(l.take('a')).toBe(false);
    now = 1100;
    expect(l.take('a')).toBe(true);
    l.ok('a');
    expect(l.take('a')).toBe(true);
  });

  it("honours a Retry-After longer than the step", () => {
    const l = sut();
    l.limited('a', 5000);
    now = 4999;
    expect(l.take('a')).toBe(false);
    now = 5000;
    expect(l.take('a')).toBe(true);
  });
});
