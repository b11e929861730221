import { createHash } from 'node:crypto';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type IndexedChange, indexedChange } from '../change-index';
import { type ChangeMeta, metaToS3 } from '../change-record';
import { type SdkItem, sdkItemToWire, type WireItem } from '../ddb-json';
import { keyOf } from '../item-key';
import type { Deadline } from '../job-model';
import type { Log } from '../log';
import { type BackupLocation, objectKeyFor } from '../object-key';
import { DEFAULT_CLOCK_SKEW_MS, type ListedVersion, outrankingBelow } from '../select-version';
import type { TaskPool } from '../task-pool';
import { ensureIndexMarker, writeIndex } from './change-index-store';
import { listVersionsOfKey, readVersionMeta } from './version-store';

/**
 * One parallel-scan segment of a backfill, page by page: every existing item is recorded as a
 * backfill version (the image with its scan time) while the stream writer keeps backing up live
 * changes. The job around it (jobs/backfill-job.ts) keeps the checkpoint and the summary.
 */

/** One segment's progress, stored in the run's folder after every page. */
export interface SegmentCheckpoint {
  /** Where the next page starts: the last page's LastEvaluatedKey. */
  lastKey?: Record<string, unknown>;
  /** Items written so far (pages completed only). */
  items: number;
  /** Of those, items whose backfill version had landed above a newer streamed change. */
  repaired: number;
  finished?: boolean;
  /** When the last page was written: a later plan counts the segment as resumed. */
  finishedAtMs?: number;
  /** The segment's rate schedule (see nextReadyAt), so a continuation keeps the pace. */
  readyAtMs?: number;
}

/** What scanning one segment needs. */
export interface SegmentScan {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  log: Log;
  source: BackupLocation;
  segment: number;
  segments: number;
  keyNames: string[];
  /** The stream's change-time precision: 1000 on AWS, 60000 on DynamoDB Local. */
  timePrecisionMs: number;
  /** This segment's read units per second, or none for unlimited. */
  rcu?: number;
  /** Called after each page with the number of items it wrote. */
  onItemsWritten?: (items: number) => void;
}

/** A token bucket holding one second of units, as restore's RateLimiter: the burst allowed. */
const BURST_MS = 1000;

/**
 * The segment's pace as a schedule rather than a waiting limiter, so it can be stored in the
 * checkpoint and a continuation (another Lambda) keeps it: `readyAtMs` is when the units spent
 * so far are paid for at `perSecond`; a page may be sent from one second before it. A page
 * costing more than a second's worth is sent in full and the next one waits out the debt, so
 * the long-run rate never exceeds `perSecond`.
 */
export const nextReadyAt = (
  readyAtMs: number | undefined,
  sentAtMs: number,
  units: number,
  perSecond: number,
): number => Math.max(readyAtMs ?? sentAtMs, sentAtMs) + (units / perSecond) * 1000;

/** How long to wait before the next page may be sent (0: now). */
export const paceWaitMs = (readyAtMs: number | undefined, nowMs: number): number =>
  readyAtMs === undefined ? 0 : Math.max(0, readyAtMs - BURST_MS - nowMs);

/**
 * Waits for the segment's turn in slices, so a long wait (a small share of `--max-rcu`, a costly
 * page) never runs past the deadline: false when the deadline came first.
 */
export async function waitTurn(readyAtMs: number | undefined, deadline: Deadline): Promise<boolean> {
  for (;;) {
    const wait = paceWaitMs(readyAtMs, Date.now());
    if (wait <= 0) return true;
    if (deadline()) return false;
    await new Promise((r) => setTimeout(r, Math.min(wait, 1000)));
  }
}

/**
 * Scans the segment's next page from the checkpoint, writes each item race-safely, and advances
 * the checkpoint (in memory: the caller stores it). The page counts only once all its items are
 * written, so a resumed segment never skips one.
 */
export async function backfillPage(
  scan: SegmentScan,
  state: SegmentCheckpoint,
  pool: TaskPool,
): Promise<void> {
  const sentAt = Date.now();
  const page = await scan.dynamodb.send(
    new ScanCommand({
      TableName: scan.source.table,
      Segment: scan.segment,
      TotalSegments: scan.segments,
      Limit: 100,
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
      ...(state.lastKey ? { ExclusiveStartKey: state.lastKey as SdkItem } : {}),
    }),
  );
  const timeMs = Math.floor(sentAt / scan.timePrecisionMs) * scan.timePrecisionMs;
  let repaired = 0;
  const indexed: IndexedChange[] = [];
  await ensureIndexMarker(scan.s3, scan.source);
  for (const item of page.Items ?? []) {
    const scanned = { image: sdkItemToWire(item as SdkItem), names: scan.keyNames, timeMs, sentAt };
    await pool.submit(async () => {
      const written = await writeBackfill(scan.s3, scan.source, scanned, scan.log);
      indexed.push(written.change);
      if (written.repaired) repaired++;
    });
  }
  await pool.drain();
  // Before the page counts as done: a failed index write fails the page, which runs again.
  if (indexed.length) await writeIndex(scan.s3, scan.source, indexed);
  const items = page.Items?.length ?? 0;
  state.items += items;
  state.repaired += repaired;
  if (page.LastEvaluatedKey) state.lastKey = page.LastEvaluatedKey;
  else {
    state.finished = true;
    state.finishedAtMs = Date.now();
  }
  if (scan.rcu !== undefined) {
    const units = page.ConsumedCapacity?.CapacityUnits ?? Math.max(1, items / 8);
    state.readyAtMs = nextReadyAt(state.readyAtMs, sentAt, units, scan.rcu);
  }
  scan.onItemsWritten?.(items);
}

/** One scanned item: its image, the table's key names, and when the scan read it. */
interface Scanned {
  image: WireItem;
  names: string[];
  /** The scan time rounded down to the stream's precision: the backfill version's change time. */
  timeMs: number;
  sentAt: number;
}

/**
 * Writes one backfill version and puts S3's order right if a newer change landed first; returns
 * its index entry. Race-safe
 * without conditional PUTs (Ceph RGW ignores them on versioned buckets): after the PUT the item's
 * versions are read back, and a streamed change newer than the scan that landed first is copied
 * back on top and its misplaced original removed, so S3's order of an item's versions matches
 * change order and the current version is always the newest state.
 */
async function writeBackfill(
  s3: S3Client,
  loc: BackupLocation,
  scanned: Scanned,
  log: Log,
): Promise<{ repaired: boolean; change: IndexedChange }> {
  const key = keyOf(scanned.image, scanned.names);
  const objectKey = objectKeyFor(loc, key);
  const meta: ChangeMeta = {
    timeMs: scanned.timeMs,
    scanMs: scanned.sentAt,
    event: 'BACKFILL',
    cause: 'backfill',
    keyNames: Object.keys(key),
  };
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: objectKey,
      Body: JSON.stringify(scanned.image),
      ContentType: 'application/json',
      Metadata: metaToS3(meta),
    }),
  );
  const moved = await putNewerBackOnTop(
    s3,
    { bucket: loc.bucket, objectKey },
    { versionId: put.VersionId, meta },
    scanned.sentAt,
  );
  const change = indexedChange(objectKey, meta, put.VersionId);
  if (moved === 0) return { repaired: false, change };
  log.info('backfill version landed after newer changes; put them back on top', {
    keyHash: createHash('sha256').update(objectKey).digest('hex').slice(0, 12),
    moved,
  });
  return { repaired: true, change };
}

/**
 * Streamed changes newer than the scan that landed below the backfill version (`anchor`) are
 * copied back on top, oldest first, and their misplaced originals removed. Returns how many moved.
 */
async function putNewerBackOnTop(
  s3: S3Client,
  at: { bucket: string; objectKey: string },
  first: { versionId: string | undefined; meta: ChangeMeta },
  sentAt: number,
): Promise<number> {
  const { bucket, objectKey } = at;
  let anchor = first;
  const metas = new Map<string, ChangeMeta | undefined>();
  const readMeta = async (v: ListedVersion) => {
    if (!metas.has(v.versionId))
      metas.set(v.versionId, await readVersionMeta(s3, bucket, objectKey, v.versionId));
    return metas.get(v.versionId);
  };
  let moved = 0;
  // A change landing while the copies are made can end up under one of them: look again, a few times.
  for (let round = 0; round < 5; round++) {
    const versions = await listVersionsOfKey(s3, bucket, objectKey);
    // Only versions written around or after the scan can hold a change the scan did not see.
    const newer = (
      await outrankingBelow(versions, anchor.versionId, anchor.meta, sentAt - DEFAULT_CLOCK_SKEW_MS, readMeta)
    ).filter((c) => c.meta.seq !== undefined);
    if (newer.length === 0) break;
    for (const v of newer) {
      // Oldest first, so the newest ends on top; then the misplaced originals go.
      const copy = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: objectKey,
          CopySource: `${bucket}/${objectKey.split('/').map(encodeURIComponent).join('/')}?versionId=${encodeURIComponent(v.version.versionId)}`,
          MetadataDirective: 'REPLACE',
          ContentType: 'application/json',
          Metadata: metaToS3({ ...v.meta, moved: true }),
        }),
      );
      if (v.meta.event === 'REMOVE')
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey }));
      await s3.send(
        new DeleteObjectCommand({ Bucket: bucket, Key: objectKey, VersionId: v.version.versionId }),
      );
      anchor = { versionId: copy.VersionId, meta: v.meta };
      moved++;
    }
  }
  return moved;
}
