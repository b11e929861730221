import type { S3Client } from '@aws-sdk/client-s3';
import type { IndexedChange } from '../change-index';
import type { ChangeMeta } from '../change-record';
import { BackupStateError } from '../errors';
import { type BackupLocation, decodeObjectKey, type ItemKey } from '../object-key';
import { compareObjectKeys } from '../pack-format';
import { WHOLE } from '../partition';
import { changeId, DEFAULT_CLOCK_SKEW_MS } from '../select-version';
import { BackupReader } from './backup-reader';
import { indexedChangesIn } from './change-index-store';
import { counted, RequestTally } from './request-tally';
import type { KeyVersions } from './version-store';

export interface ChangesReport {
  sinceMs: number;
  untilMs: number;
  items: number;
  changes: number;
  byEvent: Record<string, number>;
  byCause: Record<string, number>;
  s3Requests: number;
  /** What answered: the change index, or a listing of every version (and why: `note`). */
  source: 'index' | 'listing';
  note?: string;
}

export interface ChangedItem {
  objectKey: string;
  /** Undefined for keys too long for the object key (read the item's history for it). */
  key?: ItemKey;
  changes: number;
  /** The item's last change time in the window, epoch ms. */
  lastMs: number;
}

type Window = { sinceMs: number; untilMs: number };
/** One change as the report counts it (the console draws its chart from these). */
export type CountedChange = Pick<ChangeMeta, 'event' | 'cause' | 'timeMs'>;
type Counted = CountedChange;

export interface ChangesOptions {
  /**
   * `listing`: ignore the index (verify compares the two). `index`: never list every version
   * (the console asks first): an uncovered window throws IndexUncoveredError.
   */
  only?: 'listing' | 'index';
  /** Called with every change counted, each once. */
  onChange?: (change: CountedChange) => void;
}

/** The change index cannot answer for a window, and listing every version was not allowed. */
export class IndexUncoveredError extends BackupStateError {
  override readonly name = 'IndexUncoveredError';
  constructor(readonly reason: string) {
    super(
      `The change index cannot answer for this window (${reason}): list every version to count its changes`,
    );
  }
}

/**
 * Which items changed in a window, with counts per event and cause (items in key order from the
 * index, as their prefixes finish from a listing). The
 * change index answers when it covers the window (reading only the index objects filed around
 * it); otherwise every version is listed, and the report says why.
 */
export async function changesIn(
  s3: S3Client,
  loc: BackupLocation,
  window: Window,
  onItem?: (item: ChangedItem) => void,
  options: ChangesOptions = {},
): Promise<ChangesReport> {
  if (options.only === 'listing') return listedChanges(s3, loc, window, { onItem, options });
  const tally = new RequestTally();
  const answer = await indexedChangesIn(counted(s3, tally), loc, window);
  if (!answer.covered && options.only === 'index') throw new IndexUncoveredError(answer.reason);
  if (!answer.covered) {
    const listed = await listedChanges(s3, loc, window, { onItem, options });
    return { ...listed, s3Requests: listed.s3Requests + tally.total('s3'), note: answer.reason };
  }
  const report: ChangesReport = { ...window, ...emptyCounts(), s3Requests: 0, source: 'index' };
  const byItem = new Map<string, IndexedChange[]>();
  for (const c of answer.changes) {
    const seen = byItem.get(c.key);
    if (seen) seen.push(c);
    else byItem.set(c.key, [c]);
  }
  for (const objectKey of [...byItem.keys()].sort(compareObjectKeys)) {
    const seen = byItem.get(objectKey) ?? [];
    count(report, seen, options.onChange);
    const key = decodeObjectKey(loc, objectKey);
    onItem?.({ objectKey, ...(key ? { key } : {}), changes: seen.length, lastMs: lastOf(seen) });
  }
  report.s3Requests = tally.total('s3');
  return report;
}

const lastOf = (seen: readonly Pick<ChangeMeta, 'timeMs'>[]): number =>
  Math.max(...seen.map((c) => c.timeMs));

const emptyCounts = () => ({ items: 0, changes: 0, byEvent: {}, byCause: {} });

function count(report: ChangesReport, seen: readonly Counted[], onChange?: (c: Counted) => void): void {
  report.items++;
  for (const c of seen) {
    onChange?.(c);
    report.changes++;
    report.byEvent[c.event] = (report.byEvent[c.event] ?? 0) + 1;
    report.byCause[c.cause] = (report.byCause[c.cause] ?? 0) + 1;
  }
}

/**
 * The same from every version, prefix by prefix: a version whose LastModified is before `since`
 * minus the clock-skew bound changed before the window (a change is always written after it
 * happens), so only later versions have their change time read. Redelivered copies count once.
 */
async function listedChanges(
  s3: S3Client,
  loc: BackupLocation,
  window: Window,
  { onItem, options }: { onItem?: ((item: ChangedItem) => void) | undefined; options: ChangesOptions },
): Promise<ChangesReport> {
  const reader = new BackupReader(s3, loc);
  const report: ChangesReport = { ...window, ...emptyCounts(), s3Requests: 0, source: 'listing' };
  await reader.eachKey(WHOLE, () => ({
    item: async (group) => {
      const seen = await changesOf(reader, group, window);
      if (seen.length === 0) return;
      count(report, seen, options.onChange);
      const key = decodeObjectKey(loc, group.objectKey);
      onItem?.({
        objectKey: group.objectKey,
        ...(key ? { key } : {}),
        changes: seen.length,
        lastMs: lastOf(seen),
      });
    },
  }));
  report.s3Requests = reader.tally.total('s3');
  return report;
}

/** One item's changes in the window, each once (redelivered copies share a change id). */
async function changesOf(reader: BackupReader, group: KeyVersions, window: Window): Promise<ChangeMeta[]> {
  const recent = group.versions.filter(
    (v) => !v.isDeleteMarker && v.lastModifiedMs >= window.sinceMs - DEFAULT_CLOCK_SKEW_MS,
  );
  const seen = new Map<string, ChangeMeta>();
  for (const v of recent) {
    const meta = await reader.readMeta(group.objectKey, v.versionId);
    if (meta && meta.timeMs >= window.sinceMs && meta.timeMs <= window.untilMs)
      seen.set(changeId(meta), meta);
  }
  return [...seen.values()];
}

/** An item changed in a window, with its key (read back from a version for a long key). */
export type KeyedChange = ChangedItem & { key: ItemKey };

/**
 * The items changed in (sinceMs, atMs], the window of roll forward and incremental export, each
 * with its key; the report says whether the index or a listing found them.
 */
export async function changedSince(
  s3: S3Client,
  reader: BackupReader,
  window: { sinceMs: number; atMs: number },
  names: readonly string[],
): Promise<{ items: KeyedChange[]; report: ChangesReport }> {
  const changed: ChangedItem[] = [];
  const report = await changesIn(s3, reader.loc, { sinceMs: window.sinceMs + 1, untilMs: window.atMs }, (i) =>
    changed.push(i),
  );
  const items: KeyedChange[] = [];
  for (const item of changed)
    items.push({ ...item, key: item.key ?? (await reader.keyOf(item.objectKey, names)) });
  return { items, report };
}
