import type { ChangeMeta } from './change-record';
import { InputError } from './errors';
import { changeId, compareChanges, type ListedVersion } from './select-version';

/**
 * Reading an item's newest changes without reading all its versions. S3 lists versions in write
 * order (LastModified), not change order, but the two are close: a version is written after its
 * change (less the clock skew). So, reading versions newest-written first, once the next unread
 * one was written at L, no unread version holds a change after L + skew: every change read after
 * that is final in its place.
 */

/** Where an older page of a timeline starts: just before this change. */
export interface HistoryCursor {
  timeMs: number;
  seq?: string;
  versionId: string;
}

/** A version read: its id and its change. */
export interface ReadVersion {
  versionId: string;
  meta: ChangeMeta;
}

/** Change order, then version id: the order the whole history sorts in. */
export const compareRead = (a: ReadVersion, b: ReadVersion): number =>
  compareChanges(a.meta, b.meta) || a.versionId.localeCompare(b.versionId);

/** Whether a read version comes strictly before the cursor (always, without one). */
export function olderThan(r: ReadVersion, cursor: HistoryCursor | undefined): boolean {
  if (!cursor) return true;
  const at: ReadVersion = {
    versionId: cursor.versionId,
    meta: { timeMs: cursor.timeMs, ...(cursor.seq !== undefined ? { seq: cursor.seq } : {}) } as ChangeMeta,
  };
  return compareRead(r, at) < 0;
}

/**
 * The versions to read, newest written first (delete markers aside). An older page reads from the
 * newest again: skipping versions written long after the cursor would rest on every version being
 * written within LATE_WRITE_MS of its change, and a page must not silently miss a change when a
 * version was not (a replay of old records); only "written after the change" is relied on.
 */
export function candidateVersions(versions: readonly ListedVersion[]): ListedVersion[] {
  return versions.filter((v) => !v.isDeleteMarker).sort((a, b) => b.lastModifiedMs - a.lastModifiedMs);
}

/**
 * How many distinct changes (older than the cursor) are final: those after the next unread
 * version's write time plus the skew; all of them once nothing is left unread.
 */
export function settledChanges(
  read: readonly ReadVersion[],
  cursor: HistoryCursor | undefined,
  nextUnreadMs: number | undefined,
  clockSkewMs: number,
): number {
  const ids = new Set<string>();
  for (const r of read)
    if (olderThan(r, cursor) && (nextUnreadMs === undefined || r.meta.timeMs > nextUnreadMs + clockSkewMs))
      ids.add(changeId(r.meta));
  return ids.size;
}

export const encodeHistoryCursor = (c: HistoryCursor): string =>
  Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');

export function decodeHistoryCursor(text: string): HistoryCursor {
  const refuse = () =>
    new InputError(
      `Expected \`before\` to be a cursor from an item page's "older changes" link, got \`${text.slice(0, 40)}\`: open the item page again`,
    );
  let c: Partial<Record<keyof HistoryCursor, unknown>>;
  try {
    c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (typeof c !== 'object' || c === null || !Number.isFinite(c.timeMs) || typeof c.versionId !== 'string')
    throw refuse();
  if (c.seq !== undefined && (typeof c.seq !== 'string' || !/^\d+$/.test(c.seq))) throw refuse();
  return c as HistoryCursor;
}
