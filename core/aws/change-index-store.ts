import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  INDEX_FORMAT,
  type IndexedChange,
  type IndexMarker,
  indexBody,
  indexedChangeId,
  indexGap,
  indexListing,
  indexMarkerKey,
  indexObjectKey,
  indexObjectSpan,
  parseIndexBody,
  spanGroups,
  UPGRADE_MARGIN_MS,
} from '../change-index';
import { gapsTouching } from '../gaps';
import { type BackupLocation, itemsRoot } from '../object-key';
import { TaskPool } from '../task-pool';
import { listGaps } from './gap-store';
import { readJsonIfExists } from './version-store';

const markerSeen = new Set<string>();

/**
 * Makes sure the backup says from when its index is complete, before this process writes any
 * version of it: a backup with no version yet is indexed from its start; one written before
 * the index existed from a margin after now, when writers older than the index have finished.
 */
export async function ensureIndexMarker(
  s3: S3Client,
  loc: BackupLocation,
  nowMs = Date.now(),
): Promise<void> {
  const seen = `${loc.bucket}/${indexMarkerKey(loc)}`;
  if (markerSeen.has(seen)) return;
  if (!(await readIndexMarker(s3, loc))) {
    const any = await s3.send(
      new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: itemsRoot(loc), MaxKeys: 1 }),
    );
    // A writer of this version writes the marker before its first version: items seen with a
    // marker there by now are another writer's, started at the same time (a new table's shards).
    const raced = any.KeyCount ? await readIndexMarker(s3, loc) : undefined;
    if (!raced) await putMarker(s3, loc, any.KeyCount ? nowMs + UPGRADE_MARGIN_MS : 0);
  }
  markerSeen.add(seen);
}

async function putMarker(s3: S3Client, loc: BackupLocation, fromMs: number): Promise<void> {
  const marker: IndexMarker = { format: INDEX_FORMAT, fromMs };
  await s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: indexMarkerKey(loc),
      Body: JSON.stringify(marker),
      ContentType: 'application/json',
    }),
  );
}

export const readIndexMarker = (s3: S3Client, loc: BackupLocation): Promise<IndexMarker | undefined> =>
  readJsonIfExists<IndexMarker>(s3, loc.bucket, indexMarkerKey(loc));

/** Writes a batch's index: one object, or one per day-long span in the rare batch spanning more. */
export async function writeIndex(
  s3: S3Client,
  loc: BackupLocation,
  changes: readonly IndexedChange[],
): Promise<number> {
  const groups = spanGroups(changes);
  const batchId = randomBytes(8).toString('hex');
  for (const group of groups) {
    await s3.send(
      new PutObjectCommand({
        Bucket: loc.bucket,
        Key: indexObjectKey(loc, group, batchId),
        Body: indexBody(group),
        ContentType: 'application/json',
      }),
    );
  }
  return groups.length;
}

/** The index's answer for a window: its changes (each once), or why it cannot answer. */
export type IndexAnswer =
  | { covered: true; changes: IndexedChange[]; objectsRead: number }
  | { covered: false; reason: string };

/**
 * Every indexed change with a change time in [sinceMs, untilMs], each once, when the index
 * covers the window (see indexGap); objects whose names put them outside it are never read.
 */
export async function indexedChangesIn(
  s3: S3Client,
  loc: BackupLocation,
  window: { sinceMs: number; untilMs: number },
): Promise<IndexAnswer> {
  const reason = await indexCoverage(s3, loc, window);
  if (reason) return { covered: false, reason };
  const keys = await indexKeysFor(s3, loc, window);
  const found = new Map<string, IndexedChange>();
  await readIndexObjects(s3, loc, keys, (c) => {
    if (c.timeMs >= window.sinceMs && c.timeMs <= window.untilMs) found.set(indexedChangeId(c), c);
  });
  return { covered: true, changes: [...found.values()], objectsRead: keys.length };
}

/** Why the index alone cannot answer for changes in the window (see indexGap), or undefined. */
export async function indexCoverage(
  s3: S3Client,
  loc: BackupLocation,
  window: { sinceMs: number; untilMs: number },
): Promise<string | undefined> {
  const gaps = gapsTouching(await listGaps(s3, loc), window.sinceMs, window.untilMs);
  return indexGap(await readIndexMarker(s3, loc), window, gaps.length);
}

/**
 * Reads index objects, 16 at a time, handing each change to `use`; no new object is started
 * once `stop` says so.
 */
export async function readIndexObjects(
  s3: S3Client,
  loc: BackupLocation,
  keys: readonly string[],
  use: (change: IndexedChange) => void,
  stop: () => boolean = () => false,
): Promise<void> {
  const pool = new TaskPool(16);
  for (const key of keys) {
    if (stop()) break;
    await pool.submit(async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
      for (const c of parseIndexBody((await out.Body?.transformToString('utf8')) ?? '', key)) use(c);
    });
  }
  await pool.drain();
}

/** The index objects that can hold a change of the window, by their names. */
async function indexKeysFor(
  s3: S3Client,
  loc: BackupLocation,
  window: { sinceMs: number; untilMs: number },
): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of indexObjects(s3, loc, indexListing(loc, window)))
    if (o.span.lastMs >= window.sinceMs && o.span.firstMs <= window.untilMs) keys.push(o.key);
  return keys;
}

/** An index object as listed: its key, its name's span of change times, its LastModified. */
export interface ListedIndexObject {
  key: string;
  span: { firstMs: number; lastMs: number };
  lastModifiedMs: number;
}

/** The index objects of a run of hour folders (indexListing, indexFolders), in key order. */
export async function* indexObjects(
  s3: S3Client,
  loc: BackupLocation,
  { prefix, startAfter, lastFolder }: { prefix: string; startAfter: string; lastFolder: string },
): AsyncGenerator<ListedIndexObject> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: loc.bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : { StartAfter: startAfter }),
      }),
    );
    for (const o of page.Contents ?? []) {
      const key = o.Key ?? '';
      if (key > lastFolder && !key.startsWith(lastFolder)) return;
      const span = indexObjectSpan(key);
      // A missing LastModified is taken as "just written": reading one object too many is safe.
      const lastModifiedMs = o.LastModified?.getTime() ?? Number.POSITIVE_INFINITY;
      if (span) yield { key, span, lastModifiedMs };
    }
    token = page.NextContinuationToken;
  } while (token);
}
