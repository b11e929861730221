import { InputError } from './errors';
import { compareObjectKeys } from './pack-format';
import {
  inKeyRange,
  type Partition,
  type PrefixRange,
  prefixesOf,
  prefixPartition,
  prefixRanges,
  splitPartitions,
} from './partition';

/**
 * How a job's range of hash prefixes is shared among its tasks, and how a finish step knows
 * every task got to the end of its share. Pure: the jobs in core/aws/jobs/ use it.
 */

/** `count` contiguous, near-equal ranges of `range` (fewer when it has fewer prefixes). */
export function splitRange(range: Partition, count: number): Partition[] {
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    throw new InputError(`Expected the partition count to be a whole number from 1 to 256, got ${count}`);
  }
  const prefixes = prefixesOf(range);
  const n = Math.min(count, prefixes.length);
  return Array.from({ length: n }, (_, i) => ({
    from: prefixes[Math.floor((i * prefixes.length) / n)] as string,
    to: prefixes[Math.floor(((i + 1) * prefixes.length) / n) - 1] as string,
  }));
}

/** Most tasks a restore, export or verify splits into: a Distributed Map runs up to 10,000 at once. */
export const MAX_PARTITIONS = 10_000;

/**
 * `count` ranges of `range`. Up to one per hash prefix they are whole prefixes (splitRange);
 * beyond, each prefix is cut into about count / prefixes pieces at the last keys of a pack's
 * chunks (`lastKeysOf`), the one listing of a prefix's keys there is without listing it. The
 * first piece starts at the prefix's start and the last runs to its end, so keys written after
 * the pack are covered too.
 */
export function splitByKeys(
  range: Partition,
  count: number,
  lastKeysOf?: (hh: string) => readonly string[] | undefined,
): Partition[] {
  const prefixes = prefixesOf(range);
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
    throw new InputError(
      `Expected the partition count to be a whole number from 1 to ${MAX_PARTITIONS}, got ${count}`,
    );
  }
  if (count <= prefixes.length) return splitRange(range, count);
  if (!lastKeysOf) {
    throw new InputError(
      `Expected at most ${prefixes.length} partitions without a pack: more cut hash prefixes at a pack's chunk boundaries; run \`ddb-rewind pack\` first, or pass --partitions ${prefixes.length}`,
    );
  }
  return prefixes.flatMap((hh, i) => {
    const pieces = Math.floor(count / prefixes.length) + (i < count % prefixes.length ? 1 : 0);
    return cutPrefix(range, hh, pieces, lastKeysOf(hh) ?? []);
  });
}

/** One prefix in `pieces` cuts at chunk boundaries (fewer when it has fewer chunks). */
function cutPrefix(range: Partition, hh: string, pieces: number, lastKeys: readonly string[]): Partition[] {
  const ends = prefixRanges([range]).find((u) => u.hh === hh) ?? { hh };
  const k = Math.max(1, Math.min(pieces, lastKeys.length));
  // Boundaries strictly inside the prefix's own bounds, in order.
  const bounds = Array.from(
    { length: k - 1 },
    (_, j) => lastKeys[Math.floor(((j + 1) * lastKeys.length) / k) - 1] as string,
  ).filter((key) => inKeyRange(key, ends) && key !== ends.until);
  const cuts = [ends.after, ...bounds];
  return cuts.map((after, j) =>
    prefixPartition(hh, { after, until: j + 1 < cuts.length ? cuts[j + 1] : ends.until }),
  );
}

/**
 * The planned ranges (or cuts of them) no stored result covers, in order. Each planned prefix
 * range must be covered end to end by the results' cuts: starting at its `after`, each cut
 * starting where the one before ended, the last reaching its `until`.
 */
export function uncoveredRanges(
  planned: readonly Partition[],
  covered: ReadonlyArray<readonly Partition[] | undefined>,
): PrefixRange[] {
  const cuts = new Map<string, PrefixRange[]>();
  for (const c of prefixRanges(covered.flatMap((r) => r ?? []))) {
    const list = cuts.get(c.hh) ?? [];
    list.push(c);
    cuts.set(c.hh, list);
  }
  return prefixRanges(planned).filter((want) => !coversEndToEnd(cuts.get(want.hh) ?? [], want));
}

function coversEndToEnd(cuts: readonly PrefixRange[], want: PrefixRange): boolean {
  // Every key up to `at` is covered, or not wanted (undefined: the prefix's start). Coverage only
  // grows, so taking any cut that extends it never blocks a chain another choice would find.
  let at = want.after;
  for (;;) {
    const next = cuts.find(
      (c) =>
        (c.after === undefined || (at !== undefined && before(c.after, at))) &&
        (c.until === undefined || at === undefined || !before(c.until, at)),
    );
    if (!next) return false;
    if (
      next.until === undefined ||
      (want.until !== undefined && compareObjectKeys(next.until, want.until) >= 0)
    )
      return true;
    at = next.until;
  }
}

/** a <= b in S3 listing order. */
const before = (a: string, b: string): boolean => compareObjectKeys(a, b) <= 0;

/**
 * Refuses to finish a job whose tasks did not all get to their end: a pack.json, an export's
 * manifest or a verify report must never claim keys nobody read.
 */
export function assertCovered(
  job: { job: string; jobId: string },
  planned: readonly Partition[],
  covered: ReadonlyArray<readonly Partition[] | undefined>,
): void {
  const missing = [...new Set(uncoveredRanges(planned, covered).map((u) => u.hh))];
  if (!missing.length) return;
  const span = missing.length === 1 ? missing[0] : `${missing[0]}..${missing.at(-1)} (${missing.length})`;
  throw new InputError(
    `The ${job.job} job ${job.jobId} cannot finish: no partition task stored a result for hash prefixes ${span}; run its partition tasks (and their continuations) to the end first`,
  );
}

/** Tasks the CLI runs at once: more only multiplies read-ahead buffers, not throughput. */
export const MAX_TASKS_AT_ONCE = 4;

/**
 * `--concurrency` is the most S3 requests in flight for the whole command: the in-process
 * executor runs `tasksAtOnce` tasks, each reading with `perTask` of the budget.
 */
export function splitConcurrency(total: number, tasks: number): { tasksAtOnce: number; perTask: number } {
  const tasksAtOnce = Math.max(1, Math.min(tasks, MAX_TASKS_AT_ONCE, total));
  return { tasksAtOnce, perTask: Math.max(1, Math.floor(total / tasksAtOnce)) };
}

/**
 * Chosen items shared among up to `count` tasks (1-256, as splitPartitions checks): each goes to
 * the partition holding its hash prefix, so one task has all of one prefix; partitions with no
 * item are dropped.
 */
export function byPartition<T>(
  count: number,
  items: readonly T[],
  prefixOf: (item: T) => string,
): { partition: Partition; items: T[] }[] {
  const units = splitPartitions(count).map((partition) => ({ partition, items: [] as T[] }));
  for (const item of items) {
    const hh = prefixOf(item);
    units.find((u) => hh >= u.partition.from && hh <= u.partition.to)?.items.push(item);
  }
  return units.filter((u) => u.items.length);
}
