import { RateLimiter } from '../../core/rate-limiter';

describe('RateLimiter', () => {
  afterEach(() => jest.useRealTimers());

  // Fake timers: the clock is the test's, so the rate is checked exactly, not timed.
  const spend = async (limiter: RateLimiter, units: number[]) => {
    const done: number[] = [];
    const start = Date.now();
    const all = units.map((u) => limiter.take(u).then(() => done.push(Date.now() - start)));
    await jest.runAllTimersAsync();
    await Promise.all(all);
    return done;
  };

  it('lets one second of units through at once, then paces the rest at the rate', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const done = await spend(new RateLimiter(10), [5, 5, 5, 5]);
    expect(done[1]).toBe(0);
    expect(done[3]).toBeGreaterThanOrEqual(1000);
  });

  it('charges a take larger than a second of rate in full, so the next one waits the debt out', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    // 7 units a page at 1 unit/s: three pages cost 21 units, so the third starts after >= 14 s.
    const done = await spend(new RateLimiter(1), [7, 7, 7]);
    expect(done[0]).toBe(0);
    expect(done[1]).toBeGreaterThanOrEqual(7000);
    expect(done[2]).toBeGreaterThanOrEqual(14000);
  });
});
