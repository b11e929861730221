import type { S3Client } from '@aws-sdk/client-s3';
import { indexFolders } from '../change-index';
import { type BackupLocation, hashPrefixOf } from '../object-key';
import { compareObjectKeys } from '../pack-format';
import {
  changeMatters,
  guideWindow,
  indexObjectMatters,
  LATE_WRITE_MS,
  MAX_GUIDED_KEYS,
} from '../pack-guide';
import { indexCoverage, indexObjects, readIndexObjects } from './change-index-store';
import { unfinishedBackfill } from './gap-store';
import type { Pack } from './pack-reader';

/**
 * Whether a read as of T can take every item from the pack except those the change index names
 * (pack-guide.ts), and which those are: sorted object keys per hash prefix.
 */
export type PackGuide =
  | { guided: true; changed: Map<string, string[]>; changedItems: number; indexObjectsRead: number }
  | { guided: false; reason: string };

export async function packGuide(
  s3: S3Client,
  loc: BackupLocation,
  pack: Pack,
  atMs: number,
): Promise<PackGuide> {
  const window = guideWindow(pack.manifest, atMs);
  if ('reason' in window) return { guided: false, reason: window.reason };
  const reason = await indexCoverage(s3, loc, window);
  if (reason) return { guided: false, reason };
  const backfill = await unfinishedBackfill(s3, loc);
  if (backfill !== undefined && backfill <= window.untilMs) {
    const at = new Date(backfill).toISOString();
    return { guided: false, reason: `a backfill started at ${at} has not finished (resume it)` };
  }
  const keys = await indexObjectsToRead(s3, loc, pack, atMs);
  const changed = new Set<string>();
  await readIndexObjects(
    s3,
    loc,
    keys,
    (c) => {
      if (changeMatters(c.timeMs, atMs)) changed.add(c.key);
    },
    () => changed.size > MAX_GUIDED_KEYS,
  );
  if (changed.size > MAX_GUIDED_KEYS)
    return { guided: false, reason: `more than ${MAX_GUIDED_KEYS} items changed since the pack` };
  return {
    guided: true,
    changed: byPrefix(loc, changed),
    changedItems: changed.size,
    indexObjectsRead: keys.length,
  };
}

/**
 * The index objects that may name a version the pack did not weigh, by name and LastModified.
 * One written after the listings began holds changes at most a late write's reach earlier.
 */
async function indexObjectsToRead(s3: S3Client, loc: BackupLocation, pack: Pack, atMs: number) {
  const from = (pack.manifest.listedFromMs ?? 0) - LATE_WRITE_MS;
  const keys: string[] = [];
  for await (const o of indexObjects(s3, loc, indexFolders(loc, { firstMs: from, lastMs: atMs })))
    if (indexObjectMatters(o, pack.manifest, atMs)) keys.push(o.key);
  return keys;
}

function byPrefix(loc: BackupLocation, keys: Set<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const key of keys) {
    const hh = hashPrefixOf(loc, key);
    const list = out.get(hh);
    if (list) list.push(key);
    else out.set(hh, [key]);
  }
  for (const list of out.values()) list.sort(compareObjectKeys);
  return out;
}
