/**
 * A token bucket for capacity units: `take(n)` resolves when n units may be spent.
 * Capacity is one second of rate, so a burst never exceeds what `--max-wcu` allows per second.
 * A take larger than that (a scan page can cost more than a second of `--max-rcu`) goes into
 * debt, which later takes wait out: the long-run rate never exceeds the limit.
 */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  take(units: number): Promise<void> {
    // Chained so waiters are served in order and none starves.
    const turn = this.queue.then(() => this.wait(units));
    this.queue = turn;
    return turn;
  }

  private async wait(units: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      const needed = Math.min(units, this.perSecond);
      if (this.tokens >= needed) {
        this.tokens -= units;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((needed - this.tokens) / this.perSecond) * 1000)));
    }
  }
}
