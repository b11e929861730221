import { InputError } from './errors';
import { HASH_PREFIXES } from './object-key';

/** A range of hash prefixes, both ends included: the unit of a parallel or distributed restore. */
export interface Partition {
  from: string;
  to: string;
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
