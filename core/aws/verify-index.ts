import type { S3Client } from '@aws-sdk/client-s3';
import { BackupStateError } from '../errors';
import type { BackupLocation } from '../object-key';
import { readIndexMarker } from './change-index-store';
import { type ChangedItem, changesIn } from './changes';

/** How the change index and the versions agree over a window. */
export interface IndexReport {
  sinceMs: number;
  untilMs: number;
  inSync: boolean;
  indexedItems: number;
  listedItems: number;
  /** Object keys (at most 50 each) the versions show changed but the index does not name. */
  missingFromIndex: string[];
  /** Named by the index, with no change in the window among the versions. */
  onlyInIndex: string[];
  /** In both, with a different number of changes or last change time. */
  differ: string[];
  /** How many of each, all of them. */
  counts: { missingFromIndex: number; onlyInIndex: number; differ: number };
  s3Requests: number;
}

const SHOWN = 50;

/**
 * Checks the change index against the versions for a window (default: the last day the index
 * covers): the same items, each with the same changes, as a listing of every version finds.
 * Costs one listing of the backup (and a metadata read per recent version), like `changes` without the index.
 */
export async function verifyIndex(
  s3: S3Client,
  loc: BackupLocation,
  window: { sinceMs?: number; untilMs: number },
): Promise<IndexReport> {
  const marker = await readIndexMarker(s3, loc);
  if (!marker)
    throw new BackupStateError(`The backup of ${loc.table} has no change index yet: nothing to verify`);
  const sinceMs = window.sinceMs ?? Math.max(marker.fromMs, window.untilMs - 86_400_000);
  const w = { sinceMs, untilMs: window.untilMs };
  const indexed = new Map<string, ChangedItem>();
  const fromIndex = await changesIn(s3, loc, w, (i) => indexed.set(i.objectKey, i));
  if (fromIndex.source !== 'index') {
    throw new BackupStateError(
      `The change index does not cover ${new Date(sinceMs).toISOString()}: ${fromIndex.note}; pick a later --since`,
    );
  }
  const listed = new Map<string, ChangedItem>();
  const fromListing = await changesIn(s3, loc, w, (i) => listed.set(i.objectKey, i), { only: 'listing' });
  const missingFromIndex = [...listed.keys()].filter((k) => !indexed.has(k)).sort();
  const onlyInIndex = [...indexed.keys()].filter((k) => !listed.has(k)).sort();
  const differ = [...listed.entries()]
    .filter(([k, l]) => {
      const i = indexed.get(k);
      return i && (i.changes !== l.changes || i.lastMs !== l.lastMs);
    })
    .map(([k]) => k)
    .sort();
  return {
    ...w,
    inSync: missingFromIndex.length + onlyInIndex.length + differ.length === 0,
    indexedItems: indexed.size,
    listedItems: listed.size,
    missingFromIndex: missingFromIndex.slice(0, SHOWN),
    onlyInIndex: onlyInIndex.slice(0, SHOWN),
    differ: differ.slice(0, SHOWN),
    counts: {
      missingFromIndex: missingFromIndex.length,
      onlyInIndex: onlyInIndex.length,
      differ: differ.length,
    },
    s3Requests: fromIndex.s3Requests + fromListing.s3Requests,
  };
}
