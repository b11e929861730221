import type { S3Client } from '@aws-sdk/client-s3';
import type { ChangeMeta } from '../change-record';
import { type BackupLocation, decodeObjectKey, HASH_PREFIXES, type ItemKey, itemsRoot } from '../object-key';
import { changeId, DEFAULT_CLOCK_SKEW_MS } from '../select-version';
import { TaskPool } from '../task-pool';
import { listKeyVersions, type RequestCounter, readVersionMeta } from './version-store';

export interface ChangesReport {
  sinceMs: number;
  untilMs: number;
  items: number;
  changes: number;
  byEvent: Record<string, number>;
  byCause: Record<string, number>;
  s3Requests: number;
}

export interface ChangedItem {
  objectKey: string;
  /** Undefined for keys too long for the object key (read the item's history for it). */
  key?: ItemKey;
  changes: number;
}

/**
 * Which items changed in a window, with counts per event and cause. Streams through the versions
 * prefix by prefix: a version whose LastModified is before `since` minus the clock-skew bound
 * changed before the window (a change is always written after it happens), so only later versions
 * have their change time read. Redelivered copies count once.
 */
export async function changesIn(
  s3: S3Client,
  loc: BackupLocation,
  window: { sinceMs: number; untilMs: number },
  onItem?: (item: ChangedItem) => void,
): Promise<ChangesReport> {
  const counter: RequestCounter = { s3: 0 };
  const report: ChangesReport = { ...window, items: 0, changes: 0, byEvent: {}, byCause: {}, s3Requests: 0 };
  const pool = new TaskPool(16);
  for (const hh of HASH_PREFIXES) {
    await pool.submit(async () => {
      for await (const group of listKeyVersions(s3, loc.bucket, `${itemsRoot(loc)}${hh}/`, counter)) {
        const recent = group.versions.filter(
          (v) => !v.isDeleteMarker && v.lastModifiedMs >= window.sinceMs - DEFAULT_CLOCK_SKEW_MS,
        );
        const seen = new Map<string, ChangeMeta>();
        for (const v of recent) {
          const meta = await readVersionMeta(s3, loc.bucket, group.objectKey, v.versionId, counter);
          if (meta && meta.timeMs >= window.sinceMs && meta.timeMs <= window.untilMs)
            seen.set(changeId(meta), meta);
        }
        if (seen.size === 0) continue;
        report.items++;
        for (const meta of seen.values()) {
          report.changes++;
          report.byEvent[meta.event] = (report.byEvent[meta.event] ?? 0) + 1;
          report.byCause[meta.cause] = (report.byCause[meta.cause] ?? 0) + 1;
        }
        const key = decodeObjectKey(loc, group.objectKey);
        onItem?.({ objectKey: group.objectKey, ...(key ? { key } : {}), changes: seen.size });
      }
    });
  }
  await pool.drain();
  report.s3Requests = counter.s3;
  return report;
}
