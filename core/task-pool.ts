/**
 * Runs async tasks at most `size` at a time; `submit` waits for a free slot, so a producer that
 * streams millions of items never queues more than `size` of them (memory stays flat). The first
 * failure is kept and rethrown by `submit` and `drain`.
 */
export class TaskPool {
  private running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly size: number) {
    // A pool of 0 (or NaN) would wait forever for a free slot.
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`TaskPool size must be a whole number >= 1, got ${size}`);
    }
  }

  async submit(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.size) await Promise.race(this.running);
    if (this.failure) throw this.failure.error;
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async drain(): Promise<void> {
    while (this.running.size) await Promise.race(this.running);
    if (this.failure) throw this.failure.error;
  }
}
