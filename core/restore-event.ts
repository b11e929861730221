import { InputError } from './errors';
import { wholeNumber } from './number-arg';
import type { ItemKey } from './object-key';
import { backupLocation } from './object-key';
import { type Partition, splitPartitions } from './partition';
import { parseInstant } from './time-arg';

/**
 * The restore Lambda's event (also one Step Functions Distributed Map item).
 *
 * - `{"action":"plan", ...request, "partitions": 16}` returns `{at, partitions: [event...]}`,
 *   each a `restore` event for one range of hash prefixes.
 * - `{"action":"restore", ...request, "partition"?: {"from":"00","to":"ff"}, "keys"?: [...]}`
 *   runs the restore and returns its summary.
 * - `{"action":"pack", "table", "bucket", "prefix"?}` writes a pack of the backup (see
 *   pack-format.ts) and returns its summary; the scheduled rule of `packSchedule` sends it.
 *
 * request: `table`, `bucket`, `prefix`?, `at`? (ISO-8601 with zone or epoch ms; default now),
 * `targetTable`, `mode`? (upsert | rewind), `createTable`?, `dryRun`?, `inPlace`?,
 * `concurrency`?, `maxWcu`?
 */
export interface RestoreEvent {
  action: 'plan' | 'restore' | 'pack';
  table: string;
  bucket: string;
  prefix?: string;
  at?: string | number;
  /** Required by plan and restore. */
  targetTable?: string;
  mode?: 'upsert' | 'rewind';
  createTable?: boolean;
  dryRun?: boolean;
  inPlace?: boolean;
  concurrency?: number;
  maxWcu?: number;
  keys?: ItemKey[];
  partition?: Partition;
  partitions?: number;
}

export function checkRestoreEvent(event: RestoreEvent) {
  if (event.action !== 'plan' && event.action !== 'restore' && event.action !== 'pack') {
    throw new InputError(
      `Expected "action" to be "plan", "restore" or "pack", got ${JSON.stringify(event.action)}`,
    );
  }
  if (!event.targetTable && event.action !== 'pack')
    throw new InputError('Expected "targetTable" in the restore event');
  if (event.mode !== undefined && event.mode !== 'upsert' && event.mode !== 'rewind') {
    throw new InputError(`Expected "mode" to be "upsert" or "rewind", got ${JSON.stringify(event.mode)}`);
  }
  const source = backupLocation(event.bucket, event.table, event.prefix ?? '');
  const atMs = event.at === undefined ? Date.now() : parseInstant('at', String(event.at));
  // The same bounds as the CLI's flags, checked before anything is read or written.
  const whole = (name: string, value: number | undefined, max: number) =>
    value === undefined ? undefined : wholeNumber(`"${name}" in the restore event`, value, { min: 1, max });
  return {
    source,
    atMs,
    targetTable: event.targetTable ?? '',
    concurrency: whole('concurrency', event.concurrency, 1024),
    maxWcu: whole('maxWcu', event.maxWcu, 10_000_000),
    partitions: whole('partitions', event.partitions, 256),
  };
}

/**
 * Splits a restore into partition events. A created target is created once, by the caller
 * before the map runs, so the partition events never ask for it again.
 */
export function planPartitions(
  event: RestoreEvent,
  atMs: number,
): { at: number; partitions: RestoreEvent[] } {
  const { partitions: count = 16, action: _a, createTable: _c, ...rest } = event;
  return {
    at: atMs,
    partitions: splitPartitions(count).map((partition) => ({
      ...rest,
      action: 'restore',
      at: atMs,
      partition,
    })),
  };
}
