import { type DynamoDBClient, GetItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { type SdkItem, sdkItemToWire, type WireItem, wireItemToSdk } from '../ddb-json';
import { InputError } from '../errors';
import type { Deadline } from '../job-model';
import type { Log } from '../log';
import { type BackupLocation, type ItemKey, objectKeyFor } from '../object-key';
import { inKeyRange, type Partition, WHOLE } from '../partition';
import { RateLimiter } from '../rate-limiter';
import { keyNames, type TableManifest } from '../table-manifest';
import { TaskPool } from '../task-pool';
import { assertNotFuture } from '../time-arg';
import { loadTransform, type Transformer } from '../transform';
import { assertAnswerable } from './backup-check';
import { BackupReader, type PackIndexUse } from './backup-reader';
import { BatchWriter } from './batch-writer';
import { gapWarnings } from './gap-store';
import type { ItemAsOf } from './items-as-of';
import { requireManifest } from './manifest-store';
import { counted, type RequestSummary, requestSummary } from './request-tally';
import { imageHash, type TargetEntry, type TargetView } from './target-snapshot';
import { prepareTarget } from './target-table';

export type RestoreMode = 'upsert' | 'rewind';

export interface RestoreRequest {
  source: BackupLocation;
  /** The instant to restore, epoch ms. */
  atMs: number;
  targetTable: string;
  /** upsert: write the items present at T. rewind: also delete target items absent at T. */
  mode: RestoreMode;
  createTable?: boolean;
  /** Only these items; otherwise every item of `partition`. */
  keys?: ItemKey[];
  /**
   * Roll forward: the target already holds the table as of this instant (epoch ms, an earlier
   * restore); only the items changed after it, up to `atMs`, are written, each as it was at
   * `atMs` (deleted when absent then). The job finds them with the change index.
   */
  sinceMs?: number;
  partition?: Partition;
  /** Several ranges instead of `partition` (a job continuation's rest). */
  ranges?: Partition[];
  dryRun?: boolean;
  /** An ES module applied to every item written (core/transform.ts): CLI only. */
  transform?: string;
  /** Required to write into the source table itself. */
  inPlace?: boolean;
  /** S3 reads and DynamoDB batches in flight. @default 32 */
  concurrency?: number;
  /** Write capacity units per second at most. */
  maxWcu?: number;
  /** Bound on how far S3's clock may trail DynamoDB's. @default DEFAULT_CLOCK_SKEW_MS (2000) */
  clockSkewMs?: number;
  /** Read bodies from the table's best pack when it holds the chosen version. @default true */
  usePack?: boolean;
  /** The target was created empty by this job's plan: never read, never created again. */
  targetEmpty?: boolean;
  /** The target as already read (a distributed job's spill); otherwise this restore scans it. */
  targetView?: TargetView;
}

export interface RestoreSummary extends RequestSummary {
  atMs: number;
  targetTable: string;
  mode: RestoreMode;
  dryRun: boolean;
  itemsPut: number;
  itemsDeleted: number;
  itemsUnchanged: number;
  versionsScanned: number;
  /** The pack read (whole-table restores), and how many items' bodies came from it. */
  pack?: string;
  itemsFromPack: number;
  /**
   * How the pack was read: through the change index (only the items changed since the pack were
   * listed, each alone), or why every hash prefix was listed.
   */
  packIndex?: PackIndexUse;
  durationMs: number;
  /** Warnings that do not stop the restore, e.g. T falls in a gap of the backup. */
  warnings: string[];
  /**
   * A few object keys of each planned action (dry runs), so the plan can be checked by eye; with
   * `--transform`, a few items as the transform made them.
   */
  samples?: { put: string[]; delete: string[]; transformed?: WireItem[] };
  /** What the restore went through to the end (absent for `keys`, which has no ranges). */
  covered?: Partition[];
  /** Set when the deadline stopped the restore: what a continuation restores. */
  remaining?: Partition[];
}

export interface RestoreDeps {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  log: Log;
  /** Called as items are decided, for progress display. */
  onProgress?: (summary: Readonly<RestoreSummary>) => void;
  now?: () => number;
  /** Once true, no new object key starts (see RestoreSummary.remaining). */
  deadline?: Deadline;
}

/** Checks what must hold before a restore touches anything, and returns the backup's manifest. */
export async function checkRestore(deps: RestoreDeps, req: RestoreRequest): Promise<TableManifest> {
  assertNotFuture('--at', req.atMs, deps.now?.() ?? Date.now());
  if (req.targetTable === req.source.table && !req.inPlace) {
    throw new InputError(
      `Target table ${req.targetTable} is the source table: pass --in-place to restore over it, or pick another --target-table`,
    );
  }
  if (req.maxWcu !== undefined && !(req.maxWcu > 0)) {
    throw new InputError(`Expected \`--max-wcu\` to be a positive number, got ${req.maxWcu}`);
  }
  if (req.sinceMs !== undefined) checkRollForward(req);
  const manifest = await requireManifest(deps.s3, req.source);
  await assertAnswerable(
    deps.s3,
    req.source,
    manifest,
    [
      ...(req.sinceMs !== undefined ? [{ flag: '--since', atMs: req.sinceMs }] : []),
      { flag: '--at', atMs: req.atMs },
    ],
    deps.now?.() ?? Date.now(),
  );
  return manifest;
}

/** A roll forward writes into a copy as of `sinceMs`: no new table, no other item selection. */
function checkRollForward(req: RestoreRequest): void {
  const since = req.sinceMs ?? 0;
  if (!(since < req.atMs)) {
    throw new InputError(
      `Expected \`--since\` (${new Date(since).toISOString()}) to be before \`--at\` (${new Date(req.atMs).toISOString()}): the window runs from --since to --at`,
    );
  }
  if (req.keys)
    throw new InputError(
      'Expected --since or --keys, not both: a roll forward writes the items changed since',
    );
  if (req.createTable) {
    throw new InputError(
      'Expected an existing target with --since (a restore as of --since): drop --create-table, or restore as of --at without --since',
    );
  }
}

/**
 * Restores a table, or chosen items, as of an instant. Streams the backup one hash prefix at a
 * time (many prefixes in parallel, see BackupReader), reads as few versions as possible (see
 * selectAsOf), compares with the target and writes only what differs, in BatchWriteItem requests.
 * Running it again after an interruption converges to the same table.
 *
 * @example
 * await restore({ s3, dynamodb, log }, { source: backupLocation('backups', 'orders'), atMs, targetTable: 'orders-restore-1', mode: 'upsert', createTable: true });
 */
export async function restore(deps: RestoreDeps, req: RestoreRequest): Promise<RestoreSummary> {
  const started = Date.now();
  const manifest = await checkRestore(deps, req);
  const summary = emptySummary(req);
  summary.warnings.push(...(await gapWarnings(deps.s3, req.source, req.atMs)));
  for (const w of summary.warnings) deps.log.warn(w);
  const concurrency = req.concurrency ?? 32;
  const reader = new BackupReader(deps.s3, req.source, {
    concurrency,
    ...(req.clockSkewMs !== undefined ? { clockSkewMs: req.clockSkewMs } : {}),
    log: deps.log,
  });
  // The target's requests are counted with the reader's.
  const dynamodb = counted(deps.dynamodb, reader.tally);
  const created =
    req.targetEmpty || (req.dryRun && req.createTable)
      ? true
      : await prepareTarget(dynamodb, manifest, req.targetTable, Boolean(req.createTable));
  const writer = new BatchWriter(dynamodb, {
    table: req.targetTable,
    concurrency: Math.max(1, Math.ceil(concurrency / 4)),
    ...(req.maxWcu ? { limiter: new RateLimiter(req.maxWcu) } : {}),
  });
  const transform = req.transform ? await loadTransform(req.transform, keyNames(manifest)) : undefined;
  if (transform && !req.dryRun) {
    // First the transform over every item, writing nothing: an error stops before the first write.
    const check = { ...req, dryRun: true };
    const apply = applier(deps, check, emptySummary(check), writer, transform);
    await readAll(reader, { dynamodb, created: true, apply }, check, emptySummary(check));
  }
  const target: Target = { dynamodb, created, apply: applier(deps, req, summary, writer, transform) };
  summary.versionsScanned = await readAll(reader, { ...target, deadline: deps.deadline }, req, summary);
  await writer.flush();
  Object.assign(summary, requestSummary(reader.tally), { durationMs: Date.now() - started });
  // Ranges name object keys (item keys): never in the logs.
  deps.log.info('restore finished', {
    ...summary,
    samples: undefined,
    covered: undefined,
    remaining: undefined,
  });
  return summary;
}

/** A summary with nothing counted yet (a restore's start, or a job's merge of its partitions). */
export const emptySummary = (req: RestoreRequest): RestoreSummary => ({
  atMs: req.atMs,
  targetTable: req.targetTable,
  mode: req.mode,
  dryRun: Boolean(req.dryRun),
  itemsPut: 0,
  itemsDeleted: 0,
  itemsUnchanged: 0,
  versionsScanned: 0,
  itemsFromPack: 0,
  s3Requests: 0,
  dynamodbRequests: 0,
  requests: { s3: {}, dynamodb: {} },
  durationMs: 0,
  warnings: [],
  ...(req.dryRun ? { samples: { put: [], delete: [], ...(req.transform ? { transformed: [] } : {}) } } : {}),
});

/** Decides one item against the target's current state: put, delete, or leave it. */
type Apply = (item: ItemAsOf, current: TargetEntry | undefined, key: () => ItemKey) => Promise<void>;

interface Target {
  dynamodb: DynamoDBClient;
  /** Created by this restore: known empty, never read. */
  created: boolean;
  apply: Apply;
  deadline?: Deadline | undefined;
}

/** The items of the request (`keys`, or its ranges), each decided by the target's `apply`. */
const readAll = (reader: BackupReader, target: Target, req: RestoreRequest, summary: RestoreSummary) =>
  req.keys ? restoreKeys(reader, target, req, req.keys) : restorePartition(reader, target, req, summary);

/** The per-item rule: what the target must become for this item, counted in the summary. */
function applier(
  deps: RestoreDeps,
  req: RestoreRequest,
  summary: RestoreSummary,
  writer: BatchWriter,
  transform?: Transformer,
): Apply {
  const act = async (kind: 'put' | 'delete', objectKey: string, request: WriteRequest) => {
    if (kind === 'put') summary.itemsPut++;
    else summary.itemsDeleted++;
    if (req.dryRun) {
      const samples = summary.samples?.[kind];
      if (samples && samples.length < 10) samples.push(objectKey);
      return;
    }
    await writer.add(request);
  };
  return async (item, current, key) => {
    if (item.fromPack) summary.itemsFromPack++;
    // Transformed, the item is what the target should hold; dropped, it is as if absent at T.
    const image = item.image && transform ? await transform(item.objectKey, item.image) : item.image;
    const shown = summary.samples?.transformed;
    if (transform && image && shown && shown.length < 3) shown.push(image);
    if (image) {
      if (current && current.imageHash === imageHash(image)) summary.itemsUnchanged++;
      else await act('put', item.objectKey, { PutRequest: { Item: wireItemToSdk(image) } });
    } else if (current && req.mode === 'rewind') {
      await act('delete', item.objectKey, { DeleteRequest: { Key: wireItemToSdk(current.key ?? key()) } });
    }
    deps.onProgress?.(summary);
  };
}

/** `--keys`: each item read alone (3 requests as of T) and compared with the target's copy. */
async function restoreKeys(
  reader: BackupReader,
  target: Target,
  req: RestoreRequest,
  keys: readonly ItemKey[],
): Promise<number> {
  let versions = 0;
  const pool = new TaskPool(reader.concurrency);
  for (const key of keys) {
    await pool.submit(async () => {
      const item = await reader.itemAsOf(objectKeyFor(req.source, key), req.atMs);
      versions += item.versions.length;
      const current = target.created ? undefined : await getCurrent(target.dynamodb, req.targetTable, key);
      await target.apply(item, current, () => key);
    });
  }
  await pool.drain();
  return versions;
}

/** A partition (or the whole table): the reader's scan against the target as the job read it. */
async function restorePartition(
  reader: BackupReader,
  target: Target,
  req: RestoreRequest,
  summary: RestoreSummary,
): Promise<number> {
  const pack = req.usePack === false ? undefined : await reader.openPack(req.atMs);
  if (pack) summary.pack = pack.id;
  // The target is read once per job, by its prepare tasks (restore-job.ts), never per partition.
  if (!target.created && !req.targetView) {
    throw new Error(
      'restore() of a whole partition into an existing table needs the target as read by the job (targetView): run it through restoreJob',
    );
  }
  const snapshot = target.created ? undefined : req.targetView;
  try {
    const scan = {
      atMs: req.atMs,
      ranges: req.ranges ?? [req.partition ?? WHOLE],
      ...(pack ? { pack } : {}),
      ...(target.deadline ? { deadline: target.deadline } : {}),
    };
    const stats = await reader.scan(scan, (hh) => {
      const loaded = snapshot?.load(hh);
      loaded?.catch(() => {}); // awaited by the first item, or by end
      const current = async () => (await loaded) ?? new Map<string, TargetEntry>();
      return {
        item: async (item) => {
          const entries = await current();
          const entry = entries.get(item.objectKey);
          entries.delete(item.objectKey);
          await target.apply(item, entry, () => entry?.key ?? {});
        },
        // Left over: target items the backup never saw. Rewind makes the table equal to T: drop them.
        end: async (done) => {
          for (const [objectKey, entry] of await current())
            if (inKeyRange(objectKey, done))
              await target.apply({ objectKey, known: false }, entry, () => entry.key);
        },
      };
    });
    if (stats.guide) summary.packIndex = stats.guide;
    summary.covered = stats.covered;
    if (stats.remaining.length) summary.remaining = stats.remaining;
    return stats.versions;
  } finally {
    await snapshot?.dispose();
  }
}

async function getCurrent(
  dynamodb: DynamoDBClient,
  table: string,
  key: ItemKey,
): Promise<TargetEntry | undefined> {
  const out = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: wireItemToSdk(key), ConsistentRead: true }),
  );
  return out.Item ? { imageHash: imageHash(sdkItemToWire(out.Item as SdkItem)), key } : undefined;
}

export type { WireItem };
