import type { ChangeCause, ChangeMeta } from '../change-record';
import type { WireItem } from '../ddb-json';
import { type AttributeChange, diffItems } from '../item-diff';
import { type ItemKey, objectKeyFor } from '../object-key';
import { changeId, compareChanges } from '../select-version';
import { TaskPool } from '../task-pool';
import type { BackupReader } from './backup-reader';

/** One change of one item, as the audit log shows it. */
export interface HistoryEntry {
  /** DynamoDB change time, ISO-8601. */
  time: string;
  timeMs: number;
  event: 'insert' | 'modify' | 'remove' | 'backfill';
  cause: ChangeCause;
  versionId: string;
  sequenceNumber?: string;
  eventId?: string;
  /** Against the state before this change. */
  changes: AttributeChange[];
  /** The item after the change; absent after a remove. */
  image?: WireItem;
}

export interface ItemHistory {
  objectKey: string;
  key: ItemKey;
  entries: HistoryEntry[];
  /** Redelivered copies of a change the log shows once. */
  duplicatesSkipped: number;
  /**
   * The retention horizon, when lifecycle rules delete old versions: changes before it are not
   * listed (some may be gone), and the first change listed is diffed against the item as of it.
   */
  horizonMs?: number;
  /** The item as of the horizon (exact: the version holding it is kept), when it existed then. */
  imageAtHorizon?: WireItem;
  s3Requests: number;
}

/**
 * Every change of one item, oldest first, each with an attribute-level diff against the state
 * before it. Ordered by DynamoDB change time and sequence number, not by S3 write order, and
 * redelivered records appear once.
 *
 * @example
 * const h = await itemHistory(new BackupReader(s3, backupLocation('backups', 'orders')), { pk: { S: 'order#1' } });
 */
export async function itemHistory(
  reader: BackupReader,
  key: ItemKey,
  window: { sinceMs?: number; untilMs?: number; horizonMs?: number } = {},
): Promise<ItemHistory> {
  const objectKey = objectKeyFor(reader.loc, key);
  const before = reader.tally.total('s3');
  const read = await readChanges(reader, objectKey);
  const { entries, duplicatesSkipped } = entriesOf(read, window);
  const atHorizon =
    window.horizonMs === undefined
      ? undefined
      : read.filter((r) => r.meta.timeMs < (window.horizonMs ?? 0)).at(-1);
  return {
    objectKey,
    key,
    entries,
    duplicatesSkipped,
    s3Requests: reader.tally.total('s3') - before,
    ...(window.horizonMs !== undefined ? { horizonMs: window.horizonMs } : {}),
    ...(atHorizon && atHorizon.meta.event !== 'REMOVE'
      ? { imageAtHorizon: JSON.parse(atHorizon.body) as WireItem }
      : {}),
  };
}

/** One version read: its body and its change. */
export interface ReadChange {
  versionId: string;
  body: string;
  meta: ChangeMeta;
}

/** Every version of the object key (delete markers aside), read, in change order. */
async function readChanges(reader: BackupReader, objectKey: string): Promise<ReadChange[]> {
  const listed = (await reader.versionsOf(objectKey)).filter((v) => !v.isDeleteMarker);
  const read: ReadChange[] = [];
  const pool = new TaskPool(reader.concurrency);
  for (const v of listed) {
    await pool.submit(async () => {
      const { body, meta } = await reader.readVersion(objectKey, v.versionId);
      if (meta) read.push({ versionId: v.versionId, body, meta });
    });
  }
  await pool.drain();
  return read.sort((a, b) => compareChanges(a.meta, b.meta) || a.versionId.localeCompare(b.versionId));
}

/** The audit log's entries: each change once, diffed against the state before it, in the window. */
export function entriesOf(
  read: readonly ReadChange[],
  window: { sinceMs?: number; untilMs?: number; horizonMs?: number },
): { entries: HistoryEntry[]; duplicatesSkipped: number } {
  const seen = new Set<string>();
  const entries: HistoryEntry[] = [];
  let previous: WireItem | undefined;
  let duplicatesSkipped = 0;
  for (const r of read) {
    const id = changeId(r.meta);
    if (seen.has(id)) {
      duplicatesSkipped++;
      continue;
    }
    seen.add(id);
    const image = r.meta.event === 'REMOVE' ? undefined : (JSON.parse(r.body) as WireItem);
    const entry: HistoryEntry = {
      time: new Date(r.meta.timeMs).toISOString(),
      timeMs: r.meta.timeMs,
      event: r.meta.event.toLowerCase() as HistoryEntry['event'],
      cause: r.meta.cause,
      versionId: r.versionId,
      ...(r.meta.seq ? { sequenceNumber: r.meta.seq } : {}),
      ...(r.meta.eventId ? { eventId: r.meta.eventId } : {}),
      changes: diffItems(previous, image),
      ...(image ? { image } : {}),
    };
    previous = image;
    // Before the horizon some versions may have expired: only the state at the horizon is sure.
    if (window.horizonMs !== undefined && r.meta.timeMs < window.horizonMs) continue;
    const inWindow =
      (window.sinceMs === undefined || r.meta.timeMs >= window.sinceMs) &&
      (window.untilMs === undefined || r.meta.timeMs <= window.untilMs);
    if (inWindow) entries.push(entry);
  }
  return { entries, duplicatesSkipped };
}
