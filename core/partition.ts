import { InputError } from './errors';
import { HASH_PREFIXES } from './object-key';
import { compareObjectKeys } from './pack-format';

/**
 * A range of hash prefixes, both ends included: the unit of a parallel or distributed job. Its
 * ends can cut into a prefix at an object key, so a task can carry on where a deadline stopped it
 * and a prefix too big for one task can be shared by several.
 */
export interface Partition {
  from: string;
  to: string;
  /** In `from`, only object keys after this one (S3 listing order). */
  after?: string;
  /** In `to`, only object keys up to this one, inclusive. */
  until?: string;
}

/** Object keys after `after` and up to `until` (either open when absent). */
export interface KeyRange {
  after?: string;
  until?: string;
}

/** One hash prefix, or a cut of one: what a scan lists in one go. */
export interface PrefixRange extends KeyRange {
  hh: string;
}

export const WHOLE: Partition = { from: '00', to: 'ff' };

/** Splits the 256 prefixes into `count` contiguous, near-equal partitions. */
export function splitPartitions(count: number): Partition[] {
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    throw new InputError(`Expected the partition count to be a whole number from 1 to 256, got ${count}`);
  }
  const out: Partition[] = [];
  for (let i = 0; i < count; i++) {
    const from = Math.floor((i * 256) / count);
    const to = Math.floor(((i + 1) * 256) / count) - 1;
    out.push({ from: HASH_PREFIXES[from] as string, to: HASH_PREFIXES[to] as string });
  }
  return out;
}

/** The hash prefixes of a partition, in order. */
export function prefixesOf(partition: Partition): string[] {
  const valid = /^[0-9a-f]{2}$/;
  if (!valid.test(partition.from) || !valid.test(partition.to) || partition.from > partition.to) {
    throw new InputError(
      `Expected a partition {from, to} of two-digit lowercase hex prefixes with from <= to, got ${JSON.stringify(partition)}`,
    );
  }
  return HASH_PREFIXES.filter((p) => p >= partition.from && p <= partition.to);
}

export const inPartition = (partition: Partition, prefix: string): boolean =>
  prefix >= partition.from && prefix <= partition.to;

/** The prefixes of some ranges, in order, each with the object-key bounds that apply to it. */
export function prefixRanges(ranges: readonly Partition[]): PrefixRange[] {
  return ranges.flatMap((r) =>
    prefixesOf(r).map((hh) => ({
      hh,
      ...keyRangeOf({ after: hh === r.from ? r.after : undefined, until: hh === r.to ? r.until : undefined }),
    })),
  );
}

/** The object-key bounds of `u` that are set. */
export const keyRangeOf = (u: { after?: string | undefined; until?: string | undefined }): KeyRange => ({
  ...(u.after !== undefined ? { after: u.after } : {}),
  ...(u.until !== undefined ? { until: u.until } : {}),
});

/** One prefix, or a cut of it, as a partition. */
export const prefixPartition = (
  hh: string,
  range: { after?: string | undefined; until?: string | undefined },
): Partition => ({
  from: hh,
  to: hh,
  ...keyRangeOf(range),
});

export function inKeyRange(objectKey: string, range: KeyRange): boolean {
  return (
    (range.after === undefined || compareObjectKeys(objectKey, range.after) > 0) &&
    (range.until === undefined || compareObjectKeys(objectKey, range.until) <= 0)
  );
}

/** Prefix ranges as few partitions: consecutive prefixes with no cut between them merge. */
export function compactRanges(units: readonly PrefixRange[]): Partition[] {
  const out: Partition[] = [];
  for (const u of units) {
    const last = out.at(-1);
    const next = HASH_PREFIXES[HASH_PREFIXES.indexOf(last?.to ?? '') + 1];
    if (last && last.until === undefined && u.after === undefined && next === u.hh) {
      last.to = u.hh;
      if (u.until !== undefined) last.until = u.until;
    } else out.push(prefixPartition(u.hh, u));
  }
  return out;
}
