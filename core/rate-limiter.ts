/**
 * A token bucket for write capacity units: `take(n)` resolves when n units may be spent.
 * Capacity is one second of rate, so a burst never exceeds what `--max-wcu` allows per second.
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
    const turn = this.queue.then(() => this.wait(Math.min(units, this.perSecond)));
    this.queue = turn;
    return turn;
  }

  private async wait(units: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= units) {
        this.tokens -= units;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((units - this.tokens) / this.perSecond) * 1000)));
    }
  }
}
