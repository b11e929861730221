/**
 * The `limit` items with the latest change among many offered one at a time, in bounded memory:
 * the console lists the newest changed items of a window whose items arrive in key order.
 */
export class NewestItems<T extends { lastMs: number }> {
  private kept: T[] = [];
  private offered = 0;

  constructor(private readonly limit: number) {}

  offer(item: T): void {
    this.offered++;
    this.kept.push(item);
    // Trimmed in batches: sorting at twice the limit keeps the cost linear in the items offered.
    if (this.kept.length >= 2 * this.limit) this.trim();
  }

  /** The newest `limit`, newest first, and how many others were offered. */
  result(): { items: T[]; notListed: number } {
    this.trim();
    return { items: this.kept, notListed: this.offered - this.kept.length };
  }

  private trim(): void {
    this.kept = this.kept.sort((a, b) => b.lastMs - a.lastMs).slice(0, this.limit);
  }
}
