import {
  candidateVersions,
  compareRead,
  type HistoryCursor,
  olderThan,
  settledChanges,
} from '../history-page';
import { type ItemKey, objectKeyFor } from '../object-key';
import type { ListedVersion } from '../select-version';
import type { BackupReader } from './backup-reader';
import { entriesOf, type ItemHistory, type ReadChange } from './item-history';

export interface HistoryPageRequest {
  /** Changes per page. */
  limit: number;
  /** Only changes before this one (an older page). */
  before?: HistoryCursor;
  /** The retention horizon: changes before it are not shown (see itemHistory). */
  horizonMs?: number;
  /** The item's versions, when the caller has listed them already. */
  versions?: ListedVersion[];
}

export interface HistoryPage extends ItemHistory {
  /** Where the next older page starts; absent when this page reaches the item's first change. */
  older?: HistoryCursor;
  /** Versions listed, delete markers aside: at least the item's number of changes. */
  versionsListed: number;
}

/**
 * An item's newest `limit` changes (before a cursor), oldest first, each diffed against the state
 * before it, exactly as itemHistory shows them, reading only the versions that can hold them
 * (history-page.ts): a long-lived item's first page costs its listing and about `limit` GETs.
 */
export async function historyPage(
  reader: BackupReader,
  key: ItemKey,
  req: HistoryPageRequest,
): Promise<HistoryPage> {
  const objectKey = objectKeyFor(reader.loc, key);
  const before = reader.tally.total('s3');
  const versions = req.versions ?? (await reader.versionsOf(objectKey));
  const candidates = candidateVersions(versions);
  const read: ReadChange[] = [];
  let next = 0;
  // limit + 1: the change before the oldest shown is its diff's baseline.
  for (let batch = req.limit + 1; next < candidates.length; batch = Math.max(batch, reader.concurrency)) {
    const slice = candidates.slice(next, next + batch);
    next += slice.length;
    await Promise.all(
      slice.map(async (v) => {
        const { body, meta } = await reader.readVersion(objectKey, v.versionId);
        if (meta) read.push({ versionId: v.versionId, body, meta });
      }),
    );
    if (settledChanges(read, req.before, candidates[next]?.lastModifiedMs, reader.clockSkewMs) > req.limit)
      break;
  }
  const older = read.filter((r) => olderThan(r, req.before)).sort(compareRead);
  const { entries, duplicatesSkipped } = entriesOf(
    older,
    req.horizonMs !== undefined ? { horizonMs: req.horizonMs } : {},
  );
  const shown = entries.slice(-req.limit);
  const first = shown[0];
  const more = entries.length > shown.length || next < candidates.length;
  return {
    objectKey,
    key,
    entries: shown,
    duplicatesSkipped,
    s3Requests: reader.tally.total('s3') - before,
    versionsListed: versions.filter((v) => !v.isDeleteMarker).length,
    ...(req.horizonMs !== undefined ? { horizonMs: req.horizonMs } : {}),
    ...(more && first
      ? {
          older: {
            timeMs: first.timeMs,
            ...(first.sequenceNumber ? { seq: first.sequenceNumber } : {}),
            versionId: first.versionId,
          },
        }
      : {}),
  };
}
