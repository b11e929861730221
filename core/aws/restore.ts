import { type DynamoDBClient, GetItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { type SdkItem, sdkItemToWire, type WireItem, wireItemToSdk } from '../ddb-json';
import { InputError } from '../errors';
import { gapsTouching, gapWarning } from '../gaps';
import type { Log } from '../log';
import { type BackupLocation, type ItemKey, objectKeyFor } from '../object-key';
import { type Partition, prefixesOf, WHOLE } from '../partition';
import { RateLimiter } from '../rate-limiter';
import { DEFAULT_CLOCK_SKEW_MS } from '../select-version';
import { keyNames, type TableManifest } from '../table-manifest';
import { TaskPool } from '../task-pool';
import { assertNotFuture } from '../time-arg';
import { assertAnswerable } from './backup-check';
import { BatchWriter } from './batch-writer';
import { listGaps } from './gap-store';
import { forEachItemAsOf, type ItemAsOf, itemAsOf } from './items-as-of';
import { requireManifest } from './manifest-store';
import { openPack } from './pack-reader';
import { imageHash, type TargetEntry, TargetSnapshot } from './target-snapshot';
import { prepareTarget } from './target-table';
import { listVersionsOfKey } from './version-store';

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
  partition?: Partition;
  dryRun?: boolean;
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
}

export interface RestoreSummary {
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
  s3Requests: number;
  dynamodbRequests: number;
  durationMs: number;
  /** Warnings that do not stop the restore, e.g. T falls in a gap of the backup. */
  warnings: string[];
  /** A few object keys of each planned action (dry runs), so the plan can be checked by eye. */
  samples?: { put: string[]; delete: string[] };
}

export interface RestoreDeps {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  log: Log;
  /** Called as items are decided, for progress display. */
  onProgress?: (summary: Readonly<RestoreSummary>) => void;
  now?: () => number;
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
  const manifest = await requireManifest(deps.s3, req.source);
  await assertAnswerable(
    deps.s3,
    req.source,
    manifest,
    [{ flag: '--at', atMs: req.atMs }],
    deps.now?.() ?? Date.now(),
  );
  return manifest;
}

/**
 * Restores a table, or chosen items, as of an instant. Streams the backup one hash prefix at a
 * time (many prefixes in parallel), reads as few versions as possible (see selectAsOf), compares
 * with the target and writes only what differs, in BatchWriteItem requests. Running it again after
 * an interruption converges to the same table.
 *
 * @example
 * await restore({ s3, dynamodb, log }, { source: backupLocation('backups', 'orders'), atMs, targetTable: 'orders-restore-1', mode: 'upsert', createTable: true });
 */
export async function restore(deps: RestoreDeps, req: RestoreRequest): Promise<RestoreSummary> {
  const started = Date.now();
  const manifest = await checkRestore(deps, req);
  const summary: RestoreSummary = {
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
    durationMs: 0,
    warnings: [],
    ...(req.dryRun ? { samples: { put: [], delete: [] } } : {}),
  };
  const touched = gapsTouching(await listGaps(deps.s3, req.source), req.atMs);
  if (touched.length) {
    const warning = gapWarning(req.source.table, touched);
    summary.warnings.push(warning);
    deps.log.warn(warning);
  }
  const counter = {
    get s3() {
      return summary.s3Requests;
    },
    set s3(n: number) {
      summary.s3Requests = n;
    },
    get versions() {
      return summary.versionsScanned;
    },
    set versions(n: number) {
      summary.versionsScanned = n;
    },
    get dynamodb() {
      return summary.dynamodbRequests;
    },
    set dynamodb(n: number) {
      summary.dynamodbRequests = n;
    },
  };
  const concurrency = req.concurrency ?? 32;
  const created =
    req.dryRun && req.createTable
      ? true
      : await prepareTarget(deps.dynamodb, manifest, req.targetTable, Boolean(req.createTable));
  const writer = new BatchWriter(deps.dynamodb, {
    table: req.targetTable,
    concurrency: Math.max(1, Math.ceil(concurrency / 4)),
    counter,
    ...(req.maxWcu ? { limiter: new RateLimiter(req.maxWcu) } : {}),
  });
  const names = manifest ? keyNames(manifest) : [];
  const options = {
    atMs: req.atMs,
    clockSkewMs: req.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
    concurrency,
    counter,
  };

  const apply = async (item: ItemAsOf, current: TargetEntry | undefined, key: () => ItemKey) => {
    if (item.fromPack) summary.itemsFromPack++;
    if (item.image) {
      if (current && current.imageHash === imageHash(item.image)) summary.itemsUnchanged++;
      else await act('put', item.objectKey, { PutRequest: { Item: wireItemToSdk(item.image) } });
    } else if (current && req.mode === 'rewind') {
      await act('delete', item.objectKey, { DeleteRequest: { Key: wireItemToSdk(current.key ?? key()) } });
    }
    deps.onProgress?.(summary);
  };
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

  if (req.keys) {
    const pool = new TaskPool(concurrency);
    for (const key of req.keys) {
      await pool.submit(async () => {
        const objectKey = objectKeyFor(req.source, key);
        const versions = await listVersionsOfKey(deps.s3, req.source.bucket, objectKey, counter);
        summary.versionsScanned += versions.length;
        const item = await itemAsOf(deps.s3, req.source.bucket, objectKey, versions, options);
        const current = created ? undefined : await getCurrent(deps.dynamodb, req.targetTable, key, counter);
        await apply(item, current, () => key);
      });
    }
    await pool.drain();
  } else {
    const partition = req.partition ?? WHOLE;
    const pack = req.usePack === false ? undefined : await openPack(deps.s3, req.source, req.atMs, counter);
    if (pack) summary.pack = pack.id;
    const snapshot = created
      ? undefined
      : await TargetSnapshot.take(deps.dynamodb, req.targetTable, names, req.source, partition, counter);
    try {
      const prefixPool = new TaskPool(Math.min(16, concurrency));
      for (const hh of prefixesOf(partition)) {
        await prefixPool.submit(async () => {
          const target = (await snapshot?.load(hh)) ?? new Map<string, TargetEntry>();
          await forEachItemAsOf(
            deps.s3,
            req.source,
            hh,
            {
              ...options,
              concurrency: Math.max(2, Math.ceil(concurrency / 4)),
              ...(pack ? { pack: { pack, log: deps.log } } : {}),
            },
            async (item) => {
              const current = target.get(item.objectKey);
              target.delete(item.objectKey);
              await apply(item, current, () => current?.key ?? {});
            },
          );
          // Left over: target items the backup never saw. Rewind makes the table equal to T: drop them.
          for (const [objectKey, current] of target) {
            await apply({ objectKey, known: false }, current, () => current.key);
          }
        });
      }
      await prefixPool.drain();
    } finally {
      await snapshot?.dispose();
    }
  }
  await writer.flush();
  summary.durationMs = Date.now() - started;
  deps.log.info('restore finished', { ...summary, samples: undefined });
  return summary;
}

async function getCurrent(
  dynamodb: DynamoDBClient,
  table: string,
  key: ItemKey,
  counter: { dynamodb: number },
): Promise<TargetEntry | undefined> {
  counter.dynamodb++;
  const out = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: wireItemToSdk(key), ConsistentRead: true }),
  );
  return out.Item ? { imageHash: imageHash(sdkItemToWire(out.Item as SdkItem)), key } : undefined;
}

export type { WireItem };
