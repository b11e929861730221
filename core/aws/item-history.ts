import type { S3Client } from '@aws-sdk/client-s3';
import type { ChangeCause, ChangeMeta } from '../change-record';
import type { WireItem } from '../ddb-json';
import { type AttributeChange, diffItems } from '../item-diff';
import { type BackupLocation, type ItemKey, objectKeyFor } from '../object-key';
import { changeId, compareChanges } from '../select-version';
import { TaskPool } from '../task-pool';
import { listVersionsOfKey, type RequestCounter, readVersion } from './version-store';

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
 * const h = await itemHistory(s3, backupLocation('backups', 'orders'), { pk: { S: 'order#1' } });
 */
export async function itemHistory(
  s3: S3Client,
  loc: BackupLocation,
  key: ItemKey,
  window: { sinceMs?: number; untilMs?: number; horizonMs?: number } = {},
): Promise<ItemHistory> {
  const counter: RequestCounter = { s3: 0 };
  const objectKey = objectKeyFor(loc, key);
  const listed = (await listVersionsOfKey(s3, loc.bucket, objectKey, counter)).filter(
    (v) => !v.isDeleteMarker,
  );
  const read: Array<{ versionId: string; body: string; meta: ChangeMeta }> = [];
  const pool = new TaskPool(8);
  for (const v of listed) {
    await pool.submit(async () => {
      const { body, meta } = await readVersion(s3, loc.bucket, objectKey, v.versionId, counter);
      if (meta) read.push({ versionId: v.versionId, body, meta });
    });
  }
  await pool.drain();
  read.sort((a, b) => compareChanges(a.meta, b.meta) || a.versionId.localeCompare(b.versionId));

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
  const atHorizon =
    window.horizonMs === undefined
      ? undefined
      : read.filter((r) => r.meta.timeMs < (window.horizonMs ?? 0)).at(-1);
  return {
    objectKey,
    key,
    entries,
    duplicatesSkipped,
    s3Requests: counter.s3,
    ...(window.horizonMs !== undefined ? { horizonMs: window.horizonMs } : {}),
    ...(atHorizon && atHorizon.meta.event !== 'REMOVE'
      ? { imageAtHorizon: JSON.parse(atHorizon.body) as WireItem }
      : {}),
  };
}

/** The item as of T from its history, with the span it existed in (for `show`). */
export function stateAt(
  history: ItemHistory,
  atMs: number,
): { image?: WireItem; existedFromMs?: number; existedUntilMs?: number; nextChangeMs?: number } {
  let image: WireItem | undefined = history.imageAtHorizon;
  let from: number | undefined;
  let lastRemoveMs: number | undefined;
  let next: number | undefined;
  for (const e of history.entries) {
    if (e.timeMs > atMs) {
      next = e.timeMs;
      break;
    }
    if (e.image && !image) from = e.timeMs;
    if (!e.image) lastRemoveMs = e.timeMs;
    image = e.image;
  }
  return {
    ...(image ? { image } : {}),
    ...(image && from !== undefined ? { existedFromMs: from } : {}),
    ...(!image && lastRemoveMs !== undefined ? { existedUntilMs: lastRemoveMs } : {}),
    ...(next !== undefined ? { nextChangeMs: next } : {}),
  };
}
