/** A shard as DescribeStream lists it. */
export interface ShardInfo {
  shardId: string;
  parentShardId?: string;
}

/**
 * Shards that may be read now: not finished, and whose parent is finished or no longer listed
 * (trimmed away after 24 h). Reading a child before its parent would reorder an item's changes.
 */
export function readyShards(shards: readonly ShardInfo[], finished: ReadonlySet<string>): ShardInfo[] {
  const listed = new Set(shards.map((s) => s.shardId));
  return shards.filter(
    (s) =>
      !finished.has(s.shardId) &&
      (!s.parentShardId || !listed.has(s.parentShardId) || finished.has(s.parentShardId)),
  );
}

/** Lowest sequence number among failures, compared as integers (lengths vary on AWS). */
export function lowestSequence(sequenceNumbers: readonly string[]): string | undefined {
  let low: bigint | undefined;
  let text: string | undefined;
  for (const s of sequenceNumbers) {
    if (!s) continue;
    const n = BigInt(s);
    if (low === undefined || n < low) {
      low = n;
      text = s;
    }
  }
  return text;
}
