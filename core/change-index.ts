import type { ChangeCause, ChangeEvent, ChangeMeta } from './change-record';
import { InputError } from './errors';
import { type BackupLocation, tableRoot } from './object-key';
import { changeId } from './select-version';

/**
 * The change index: which changes a writer (Lambda, runner) or a backfill page wrote, so a
 * window of time is answered without listing every version of the backup.
 *
 * <prefix><table>/_changes/<yyyy-mm-ddThh>/<first ms>-<last ms>-<batch id>.json
 *   one object per written batch, filed under the hour of its earliest change time, its first
 *   and last change times in the name (a reader skips objects outside its window unread)
 * <prefix><table>/_meta/change-index.json
 *   { fromMs }: changes from then on are all indexed (see DESIGN.md "Change index")
 *
 * Why the hour of the earliest change bounds a search: a batch holds stream records at most a
 * day old (the stream's retention) and a backfill page's changes are its scan time, so every
 * change of a batch is within MAX_SPAN_MS of its earliest; a change at t is filed at or before
 * hour(t) and after hour(t - MAX_SPAN_MS). A writer splits the rare batch spanning more.
 */
export const INDEX_FORMAT = 'ddb-rewind-changes/1';
export const MAX_SPAN_MS = 24 * 3600_000;

/** One change as indexed: enough to count it, find its item and read its version. */
export interface IndexedChange {
  /** The item's object key. */
  key: string;
  /** The version the writer put (a removal: its tombstone). A backfill may later move it. */
  versionId?: string;
  timeMs: number;
  event: ChangeEvent;
  cause: ChangeCause;
  seq?: string;
}

export interface IndexMarker {
  format: typeof INDEX_FORMAT;
  /** Every change with a change time at or after this is in the index. */
  fromMs: number;
}

export const indexRoot = (loc: BackupLocation): string => `${tableRoot(loc)}_changes/`;
export const indexMarkerKey = (loc: BackupLocation): string => `${tableRoot(loc)}_meta/change-index.json`;

/** Writers older than the index may still finish a batch this long after the first indexed one. */
export const UPGRADE_MARGIN_MS = 15 * 60_000;

const hourOf = (ms: number): string => new Date(ms).toISOString().slice(0, 13);
const pad = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(13, '0');

export function indexedChange(key: string, meta: ChangeMeta, versionId: string | undefined): IndexedChange {
  return {
    key,
    ...(versionId ? { versionId } : {}),
    timeMs: meta.timeMs,
    event: meta.event,
    cause: meta.cause,
    ...(meta.seq !== undefined ? { seq: meta.seq } : {}),
  };
}

/** The same change written twice (a redelivered batch) is one: same item, same change id. */
export const indexedChangeId = (c: IndexedChange): string => `${c.key}\n${changeId(c)}`;

/** A batch's changes in time order, cut where one object would span more than MAX_SPAN_MS. */
export function spanGroups(changes: readonly IndexedChange[]): IndexedChange[][] {
  const sorted = [...changes].sort((a, b) => a.timeMs - b.timeMs);
  const groups: IndexedChange[][] = [];
  for (const c of sorted) {
    const last = groups.at(-1);
    if (last && c.timeMs - (last[0]?.timeMs ?? c.timeMs) < MAX_SPAN_MS) last.push(c);
    else groups.push([c]);
  }
  return groups;
}

/** The object one group of changes (time-ordered, from spanGroups) is written to. */
export function indexObjectKey(
  loc: BackupLocation,
  group: readonly IndexedChange[],
  batchId: string,
): string {
  const first = group[0]?.timeMs ?? 0;
  const last = group.at(-1)?.timeMs ?? first;
  return `${indexRoot(loc)}${hourOf(first)}/${pad(first)}-${pad(last)}-${batchId}.json`;
}

export const indexBody = (group: readonly IndexedChange[]): string =>
  JSON.stringify({ format: INDEX_FORMAT, changes: group });

export function parseIndexBody(text: string, key: string): IndexedChange[] {
  const body = JSON.parse(text) as { format?: string; changes?: IndexedChange[] };
  if (body.format !== INDEX_FORMAT || !Array.isArray(body.changes)) {
    throw new InputError(
      `${key} is not a ddb-rewind change index object (${INDEX_FORMAT}): was it written by hand?`,
    );
  }
  return body.changes;
}

/** An index object's first and last change times, from its name; undefined for a foreign key. */
export function indexObjectSpan(key: string): { firstMs: number; lastMs: number } | undefined {
  const m = /\/(\d{13})-(\d{13})-[^/]+\.json$/.exec(key);
  return m ? { firstMs: Number(m[1]), lastMs: Number(m[2]) } : undefined;
}

/**
 * Where a listing of the index starts (exclusive) and the last hour folder it needs, for the
 * changes of [sinceMs, untilMs]: objects filed up to a span before `since`, through `until`.
 */
export function indexListing(loc: BackupLocation, window: { sinceMs: number; untilMs: number }) {
  return indexFolders(loc, { firstMs: window.sinceMs - MAX_SPAN_MS, lastMs: window.untilMs });
}

/** A listing of the hour folders of [firstMs, lastMs] (objects filed by their earliest change). */
export function indexFolders(loc: BackupLocation, filed: { firstMs: number; lastMs: number }) {
  const root = indexRoot(loc);
  return {
    prefix: root,
    // Folders sort by hour; '/' sorts before the digits of any object name in the folder.
    startAfter: `${root}${hourOf(Math.max(0, filed.firstMs))}`,
    lastFolder: `${root}${hourOf(filed.lastMs)}/`,
  };
}

/** Whether the index alone answers [sinceMs, untilMs]: why not, or undefined when it does. */
export function indexGap(
  marker: IndexMarker | undefined,
  window: { sinceMs: number },
  gapsInWindow: number,
): string | undefined {
  if (!marker) return 'this backup has no change index (written before it existed)';
  if (window.sinceMs < marker.fromMs) {
    return `the change index starts at ${new Date(marker.fromMs).toISOString()}, after the window starts`;
  }
  if (gapsInWindow > 0)
    return 'the window touches a recorded gap in the backup, whose versions the index may lack';
  return undefined;
}
