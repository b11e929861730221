import type { ChangeMeta } from './change-record';

/** One entry of ListObjectVersions for one object key (a version or a delete marker). */
export interface ListedVersion {
  versionId: string;
  lastModifiedMs: number;
  /** Absent on delete markers. */
  etag?: string;
  isDeleteMarker: boolean;
}

/**
 * Total order of changes of one item: change time, then backfill before stream changes of the
 * same instant (a scan that saw the state before a change must not override it), then sequence
 * number (compared as integers: real sequence numbers vary in length).
 */
export function compareChanges(a: ChangeMeta, b: ChangeMeta): number {
  if (a.timeMs !== b.timeMs) return a.timeMs - b.timeMs;
  const ak = a.seq === undefined ? 0 : 1;
  const bk = b.seq === undefined ? 0 : 1;
  if (ak !== bk) return ak - bk;
  if (a.seq === undefined || b.seq === undefined) return 0;
  const as = BigInt(a.seq);
  const bs = BigInt(b.seq);
  return as < bs ? -1 : as > bs ? 1 : 0;
}

/** Identity of a change: redelivered records share it, so they count once. */
export const changeId = (m: Pick<ChangeMeta, 'seq' | 'timeMs'>): string =>
  m.seq !== undefined ? `s${m.seq}` : `b${m.timeMs}`;

export interface Selection {
  version: ListedVersion;
  /** Present when it had to be read to decide; otherwise read it with the body. */
  meta?: ChangeMeta;
  /** How many metadata reads the decision took (HEAD requests). */
  metaReads: number;
}

/**
 * Default bound on how far S3's LastModified may trail DynamoDB's change time for the same
 * instant. Both are AWS server clocks kept in sync; change times are also rounded down to the
 * second, which only helps. Too small a bound could take a version in too early; too large only
 * costs HeadObject requests.
 */
export const DEFAULT_CLOCK_SKEW_MS = 2000;

export interface SelectOptions {
  /** Largest amount by which S3's clock may be behind DynamoDB's. */
  clockSkewMs: number;
}

/**
 * The version holding the item as of `atMs`: its latest change with change time <= atMs.
 * Returns undefined when no change is at or before atMs. A selected REMOVE (tombstone) means the
 * item was absent; the caller learns that from the version's metadata.
 *
 * Why this reads so little: a version is written after its change, so LastModified <= atMs - skew
 * proves it is in without reading it. Versions listed later are read oldest first until one is
 * after atMs: first deliveries reach S3 in stream order per item, so nothing after that one is in,
 * except redelivered copies of changes already counted. A redelivered copy shares its ETag with
 * the original; only when the newest in-version's ETag repeats an older one (a copy, or an item
 * that went back to an earlier image) are all in-versions read to pick the latest change.
 *
 * @param versions one object key's versions, newest first, as ListObjectVersions returns them
 * @param readMeta reads one version's ChangeMeta (a HEAD request)
 */
export async function selectAsOf(
  versions: readonly ListedVersion[],
  atMs: number,
  options: SelectOptions,
  readMeta: (v: ListedVersion) => Promise<ChangeMeta | undefined>,
): Promise<Selection | undefined> {
  const data = versions.filter((v) => !v.isDeleteMarker).reverse();
  const cutoff = atMs - options.clockSkewMs;
  const known = new Map<string, ChangeMeta>();
  let metaReads = 0;
  const read = async (v: ListedVersion): Promise<ChangeMeta | undefined> => {
    const cached = known.get(v.versionId);
    if (cached) return cached;
    metaReads++;
    const meta = await readMeta(v);
    if (meta) known.set(v.versionId, meta);
    return meta;
  };

  let inCount = 0;
  while (inCount < data.length && (data[inCount] as ListedVersion).lastModifiedMs <= cutoff) inCount++;
  for (let i = inCount; i < data.length; i++) {
    const meta = await read(data[i] as ListedVersion);
    if (!meta || meta.timeMs > atMs) break;
    inCount = i + 1;
  }
  if (inCount === 0) return undefined;

  const newest = data[inCount - 1] as ListedVersion;
  const repeated = data.slice(0, inCount - 1).some((v) => v.etag !== undefined && v.etag === newest.etag);
  if (!repeated) {
    const meta = known.get(newest.versionId);
    return { version: newest, ...(meta ? { meta } : {}), metaReads };
  }
  let best: { version: ListedVersion; meta: ChangeMeta } | undefined;
  for (const v of data.slice(0, inCount)) {
    const meta = await read(v);
    if (meta && meta.timeMs <= atMs && (!best || compareChanges(meta, best.meta) > 0))
      best = { version: v, meta };
  }
  return best ? { version: best.version, meta: best.meta, metaReads } : undefined;
}

/**
 * The changes under `anchorId` in S3's order, written since `sinceMs`, that outrank `meta`,
 * oldest first: what a backfill version or a moved copy may have landed on top of. The backfill's
 * repair moves them up; readers take the latest of them.
 *
 * @param versions one object key's versions, newest first
 */
export async function outrankingBelow(
  versions: readonly ListedVersion[],
  anchorId: string | undefined,
  meta: ChangeMeta,
  sinceMs: number,
  readMeta: (v: ListedVersion) => Promise<ChangeMeta | undefined>,
): Promise<Array<{ version: ListedVersion; meta: ChangeMeta }>> {
  const from = versions.findIndex((v) => v.versionId === anchorId);
  if (from < 0) return [];
  const out: Array<{ version: ListedVersion; meta: ChangeMeta }> = [];
  for (const v of versions.slice(from + 1)) {
    if (v.isDeleteMarker || v.lastModifiedMs < sinceMs) continue;
    const m = await readMeta(v);
    if (m && compareChanges(m, meta) > 0) out.push({ version: v, meta: m });
  }
  return out.sort((x, y) => compareChanges(x.meta, y.meta));
}

/**
 * Checks a version S3's order cannot vouch for: a backfill version (its PUT may land after a
 * change its scan did not see) or a change a backfill moved back on top (another change may have
 * landed while it was copied; the backfill may have been killed half-way). Returns the latest
 * change at or before atMs that outranks the selected one, or undefined if none does.
 *
 * @param versions one object key's versions, newest first
 */
export async function outrankingVersion(
  versions: readonly ListedVersion[],
  { version: selected, meta }: { version: ListedVersion; meta: ChangeMeta },
  { atMs, clockSkewMs }: SelectOptions & { atMs: number },
  readMeta: (v: ListedVersion) => Promise<ChangeMeta | undefined>,
): Promise<{ version: ListedVersion; meta: ChangeMeta } | undefined> {
  // A change the scan did not see was written after the scan was sent: the exact scan time bounds
  // the window (timeMs is rounded down to the stream's precision, a whole minute on DynamoDB Local,
  // and would take in changes the scan saw, which rank above it at the same rounded time).
  const since = (meta.scanMs ?? meta.timeMs) - Math.max(clockSkewMs, DEFAULT_CLOCK_SKEW_MS);
  const newer = await outrankingBelow(versions, selected.versionId, meta, since, readMeta);
  return newer.filter((c) => c.meta.timeMs <= atMs).at(-1);
}
