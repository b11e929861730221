import { InputError } from './errors';
import { HASH_PREFIXES } from './object-key';
import { type Partition, prefixesOf } from './partition';

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

/**
 * What one run of a task finished: its range up to the prefix before `stoppedAt` (the first
 * prefix a deadline kept it from starting), or nothing when it stopped before its first prefix.
 */
export function coveredRange(partition: Partition, stoppedAt?: string): Partition | undefined {
  if (stoppedAt === undefined) return partition;
  if (stoppedAt <= partition.from) return undefined;
  return { from: partition.from, to: HASH_PREFIXES[HASH_PREFIXES.indexOf(stoppedAt) - 1] as string };
}

/** The planned prefixes no stored result covers, in order. */
export function uncoveredPrefixes(
  planned: readonly Partition[],
  covered: ReadonlyArray<Partition | undefined>,
): string[] {
  const done = new Set(covered.flatMap((c) => (c ? prefixesOf(c) : [])));
  return planned.flatMap((p) => prefixesOf(p)).filter((hh) => !done.has(hh));
}

/**
 * Refuses to finish a job whose tasks did not all get to their end: a pack.json, an export's
 * manifest or a verify report must never claim prefixes nobody read.
 */
export function assertCovered(
  job: { job: string; jobId: string },
  planned: readonly Partition[],
  covered: ReadonlyArray<Partition | undefined>,
): void {
  const missing = uncoveredPrefixes(planned, covered);
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
