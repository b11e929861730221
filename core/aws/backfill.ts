import { createHash } from 'node:crypto';
import { DescribeTableCommand, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type ChangeMeta, metaToS3 } from '../change-record';
import { loadJson, saveJson } from '../checkpoint-file';
import { type SdkItem, sdkItemToWire, type WireItem } from '../ddb-json';
import { InputError } from '../errors';
import { keyOf } from '../item-key';
import type { Log } from '../log';
import { type BackupLocation, objectKeyFor } from '../object-key';
import { RateLimiter } from '../rate-limiter';
import { DEFAULT_CLOCK_SKEW_MS, type ListedVersion, outrankingBelow } from '../select-version';
import { keyNames } from '../table-manifest';
import { TaskPool } from '../task-pool';
import { recordBackfillCompleted } from './gap-store';
import { recordManifest } from './manifest-store';
import { assertVersionedBucket, listVersionsOfKey, readVersionMeta } from './version-store';

export interface BackfillRequest {
  source: BackupLocation;
  /** Parallel scan segments. @default 4 */
  segments?: number;
  /** Read capacity units per second at most. */
  maxRcu?: number;
  /** Share of a provisioned table's read capacity to use, 1-100. */
  readPercent?: number;
  /** Where per-segment progress is kept; with `resume`, finished pages are skipped. */
  checkpointFile: string;
  resume?: boolean;
  /**
   * The stream's change-time precision: 1000 on AWS, 60000 on DynamoDB Local. A scanned image is
   * stamped with its scan time rounded down to it, so it ranks before any streamed change of the
   * same instant (which the scan may not have seen). @default 1000
   */
  timePrecisionMs?: number;
  /** S3 writes in flight. @default 16 */
  concurrency?: number;
}

export interface BackfillSummary {
  items: number;
  segments: number;
  /** Items whose backfill version had landed above a newer streamed change, and were put right. */
  repaired: number;
  resumedSegments: number;
  durationMs: number;
}

interface Progress {
  table: string;
  segments: number;
  startedAtMs: number;
  done: Record<string, { lastKey?: Record<string, unknown>; finished?: boolean; items: number }>;
}

/**
 * Records every existing item as a backfill version (the image with its scan time), while the
 * stream writer keeps backing up live changes. Race-safe without conditional PUTs (Ceph RGW
 * ignores them on versioned buckets): after each PUT the item's versions are read back, and if
 * a streamed change newer than the scan had landed first, that change is copied back on top and
 * its misplaced original removed, so S3's order of an item's versions matches change order and
 * the current version is always the newest state.
 */
export async function backfill(
  deps: { s3: S3Client; dynamodb: DynamoDBClient; log: Log; onProgress?: (items: number) => void },
  req: BackfillRequest,
): Promise<BackfillSummary> {
  const started = Date.now();
  const { s3, dynamodb } = deps;
  const loc = req.source;
  await assertVersionedBucket(s3, loc.bucket);
  const segments = req.segments ?? 4;
  if (!Number.isInteger(segments) || segments < 1 || segments > 1000000) {
    throw new InputError(`Expected \`--segments\` to be a whole number from 1 to 1000000, got ${segments}`);
  }
  const limiter = await readLimiter(dynamodb, loc.table, req);
  const progress = await startProgress(req, segments, started);
  const manifest = await recordManifest(s3, dynamodb, loc, progress.startedAtMs);
  const summary: BackfillSummary = { items: 0, segments, repaired: 0, resumedSegments: 0, durationMs: 0 };
  let saving = Promise.resolve();
  const run: SegmentRun = {
    deps,
    req,
    names: keyNames(manifest),
    pool: new TaskPool(req.concurrency ?? 16),
    limiter,
    summary,
    save: () => {
      saving = saving.then(() => saveJson(req.checkpointFile, progress));
      return saving;
    },
  };
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      progress.done[segment] ??= { items: 0 };
      const state = progress.done[segment] as SegmentState;
      if (state.finished) summary.resumedSegments++;
      else await backfillSegment(run, segment, state);
    }),
  );
  await saving;
  await recordBackfillCompleted(s3, loc, progress.startedAtMs);
  summary.durationMs = Date.now() - started;
  return summary;
}

type SegmentState = Progress['done'][string];

/** What every segment of one backfill shares. */
interface SegmentRun {
  deps: { s3: S3Client; dynamodb: DynamoDBClient; log: Log; onProgress?: (items: number) => void };
  req: BackfillRequest;
  names: string[];
  pool: TaskPool;
  limiter: RateLimiter | undefined;
  summary: BackfillSummary;
  save: () => Promise<void>;
}

/** The checkpoint to resume from (checked against this run), or a new one. */
async function startProgress(req: BackfillRequest, segments: number, started: number): Promise<Progress> {
  const table = req.source.table;
  const stored = req.resume ? await loadJson<Progress>(req.checkpointFile) : undefined;
  if (req.resume && stored && (stored.table !== table || stored.segments !== segments)) {
    throw new InputError(
      `The backfill checkpoint ${req.checkpointFile} is for ${stored.table} with ${stored.segments} segments: resume with --segments ${stored.segments}, or drop --resume to start over`,
    );
  }
  return stored ?? { table, segments, startedAtMs: started, done: {} };
}

/** One parallel-scan segment, page by page from where its checkpoint stopped. */
async function backfillSegment(run: SegmentRun, segment: number, state: SegmentState): Promise<void> {
  const { deps, req, summary } = run;
  const precision = req.timePrecisionMs ?? 1000;
  let startKey = state.lastKey;
  do {
    const sentAt = Date.now();
    const page = await deps.dynamodb.send(
      new ScanCommand({
        TableName: req.source.table,
        Segment: segment,
        TotalSegments: req.segments ?? 4,
        Limit: 100,
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
        ...(startKey ? { ExclusiveStartKey: startKey as SdkItem } : {}),
      }),
    );
    const timeMs = Math.floor(sentAt / precision) * precision;
    for (const item of page.Items ?? []) {
      const scanned = { image: sdkItemToWire(item as SdkItem), names: run.names, timeMs, sentAt };
      await run.pool.submit(async () => {
        if (await writeBackfill(deps.s3, req.source, scanned, deps.log)) summary.repaired++;
        summary.items++;
        deps.onProgress?.(summary.items);
      });
    }
    // A page counts as done only when all its items are written: resume never skips one.
    await run.pool.drain();
    state.items += page.Items?.length ?? 0;
    startKey = page.LastEvaluatedKey;
    if (startKey) state.lastKey = startKey;
    else state.finished = true;
    await run.save();
    if (run.limiter)
      await run.limiter.take(
        page.ConsumedCapacity?.CapacityUnits ?? Math.max(1, (page.Items?.length ?? 0) / 8),
      );
  } while (startKey);
}

async function readLimiter(
  dynamodb: DynamoDBClient,
  table: string,
  req: BackfillRequest,
): Promise<RateLimiter | undefined> {
  if (req.maxRcu !== undefined && req.readPercent !== undefined) {
    throw new InputError('Give either `--max-rcu` or `--read-percent`, not both');
  }
  if (req.maxRcu !== undefined) {
    if (!(req.maxRcu > 0))
      throw new InputError(`Expected \`--max-rcu\` to be a positive number, got ${req.maxRcu}`);
    return new RateLimiter(req.maxRcu);
  }
  if (req.readPercent === undefined) return undefined;
  if (!(req.readPercent > 0 && req.readPercent <= 100)) {
    throw new InputError(`Expected \`--read-percent\` to be from 1 to 100, got ${req.readPercent}`);
  }
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
  const rcu = Table?.ProvisionedThroughput?.ReadCapacityUnits ?? 0;
  if (Table?.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST' || rcu === 0) {
    throw new InputError(
      `Table ${table} is on-demand, so --read-percent has no capacity to take a share of: use --max-rcu`,
    );
  }
  return new RateLimiter((rcu * req.readPercent) / 100);
}

/** One scanned item: its image, the table's key names, and when the scan read it. */
interface Scanned {
  image: WireItem;
  names: string[];
  /** The scan time rounded down to the stream's precision: the backfill version's change time. */
  timeMs: number;
  sentAt: number;
}

/** Writes one backfill version and puts S3's order right if a newer change landed first. */
async function writeBackfill(
  s3: S3Client,
  loc: BackupLocation,
  scanned: Scanned,
  log: Log,
): Promise<boolean> {
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
  if (moved === 0) return false;
  log.info('backfill version landed after newer changes; put them back on top', {
    keyHash: createHash('sha256').update(objectKey).digest('hex').slice(0, 12),
    moved,
  });
  return true;
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
