import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import pLimit from 'p-limit';
import { type IndexedChange, indexedChange } from '../change-index';
import { type BackupWrite, changeFromRecord, tableFromStreamArn } from '../change-record';
import { ConfigurationError, InputError, PoisonRecordError } from '../errors';
import type { Log } from '../log';
import { countForTable, type MetricSink } from '../metrics';
import { type BackupLocation, backupLocation } from '../object-key';
import { ensureIndexMarker, writeIndex } from './change-index-store';
import { recordManifest } from './manifest-store';
import { assertVersionedBucket, writeChange } from './version-store';

export interface StreamWriterConfig {
  bucket: string;
  /** Optional folder for all tables in the bucket. */
  prefix?: string;
  /** Items written at once; one item's changes are always written one after another. */
  concurrency: number;
}

export interface StreamWriterDeps {
  s3: S3Client;
  /** Used to record the table description in the backup; omit to skip that. */
  dynamodb?: DynamoDBClient;
  log: Log;
  /** Test hook: called before each write; throwing fails that record. */
  beforeWrite?: (change: BackupWrite) => void | Promise<void>;
  /** Clock for backup-lag reporting. */
  now?: () => number;
  /** Receives `RecordsParked` per table; omit to count nothing. */
  metrics?: MetricSink;
}

export interface BatchOutcome extends DynamoDBBatchResponse {
  written: number;
  failed: number;
  /** Records that can never be stored, kept whole under `<prefix><table>/_dead-letter/`. */
  parked: number;
  /** now - oldest change time written, ms: how far the backup is behind the table. */
  lagMs?: number;
}

const MANIFEST_TTL_MS = 5 * 60_000;
const manifestSeen = new Map<string, number>();

/**
 * Writes a stream batch to S3: one version per change, each item's changes in stream order,
 * different items in parallel. A failed change stops its item (nothing later of that item is
 * written) and is reported in batchItemFailures so Lambda retries from it.
 *
 * @example
 * const out = await writeStreamBatch({ s3, dynamodb, log }, { bucket: 'backups', concurrency: 16 }, event);
 */
export async function writeStreamBatch(
  deps: StreamWriterDeps,
  config: StreamWriterConfig,
  event: DynamoDBStreamEvent,
): Promise<BatchOutcome> {
  await assertVersionedBucket(deps.s3, config.bucket);
  const groups = groupByItem(config, event.Records);
  await recordManifests(deps, config, event.Records);
  for (const loc of tablesOf(config, groups)) await ensureIndexMarker(deps.s3, loc);

  const limit = pLimit(Math.max(1, config.concurrency));
  const done: Written = {
    failures: [],
    written: 0,
    parked: 0,
    oldest: Number.POSITIVE_INFINITY,
    indexed: new Map(),
  };
  await Promise.all([...groups.values()].map((group) => limit(() => writeGroup(deps, config, group, done))));
  const { written, parked, oldest } = done;
  const failures = (await indexWritten(deps, config, done)) ? done.failures : event.Records;
  const now = deps.now?.() ?? Date.now();
  return {
    batchItemFailures: failures.map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })),
    written,
    failed: failures.length,
    parked,
    ...(Number.isFinite(oldest) ? { lagMs: Math.max(0, now - oldest) } : {}),
  };
}

/** What a batch's groups wrote, parked and left for Lambda to retry. */
interface Written {
  failures: DynamoDBRecord[];
  written: number;
  parked: number;
  /** The oldest change time written: the batch's backup lag. */
  oldest: number;
  /** What was written, per table, for the change index. */
  indexed: Map<string, IndexedChange[]>;
}

/** The tables a batch writes to (normally one: a batch comes from one stream). */
function tablesOf(config: StreamWriterConfig, groups: Map<string, Planned[]>): BackupLocation[] {
  const tables = new Map<string, BackupLocation>();
  for (const [first] of groups.values()) {
    if (!first || first.change instanceof Error) continue;
    const { record } = first;
    const loc = locationOf(config, record);
    tables.set(loc.table, loc);
  }
  return [...tables.values()];
}

/**
 * Writes the batch's index entries. When they cannot be written the whole batch is reported
 * failed, so Lambda retries it and the retry writes them (its versions again too: harmless,
 * a change written twice counts once). False then.
 */
async function indexWritten(
  deps: StreamWriterDeps,
  config: StreamWriterConfig,
  done: Written,
): Promise<boolean> {
  try {
    for (const [table, changes] of done.indexed) {
      await writeIndex(deps.s3, backupLocation(config.bucket, table, config.prefix ?? ''), changes);
    }
    return true;
  } catch (err) {
    deps.log.error('change index not written; the batch is retried whole', {
      error: (err as Error).name,
      reason: (err as Error).message,
    });
    return false;
  }
}

/** One item's changes, in stream order; the first that fails stops the item (Lambda retries it). */
async function writeGroup(
  deps: StreamWriterDeps,
  config: StreamWriterConfig,
  group: Planned[],
  done: Written,
): Promise<void> {
  for (const [index, { record, change }] of group.entries()) {
    try {
      if (change instanceof Error) throw change;
      await deps.beforeWrite?.(change);
      const versionId = await writeChange(deps.s3, config.bucket, change);
      const table = locationOf(config, record).table;
      const indexed = done.indexed.get(table) ?? [];
      indexed.push(indexedChange(change.objectKey, change.meta, versionId));
      done.indexed.set(table, indexed);
      done.written++;
      done.oldest = Math.min(done.oldest, change.meta.timeMs);
    } catch (err) {
      if (err instanceof ConfigurationError) throw err;
      if (
        (err instanceof InputError || err instanceof PoisonRecordError) &&
        (await parked(deps, config, record, err))
      ) {
        done.parked++;
        continue;
      }
      done.failures.push(record);
      deps.log.error('change not written; its item stops here until Lambda retries', {
        sequenceNumber: record.dynamodb?.SequenceNumber,
        eventName: record.eventName,
        keyHash: change instanceof Error ? undefined : keyHash(change.objectKey),
        remainingOfItem: group.length - index - 1,
        error: (err as Error).name,
        reason: (err as Error).message,
      });
      return;
    }
  }
}

/**
 * Retrying cannot help a record that can never be stored: park it whole, replayable, so it fails
 * alone and its item and the stream go on. False when parking failed too (Lambda retries it).
 */
async function parked(
  deps: StreamWriterDeps,
  config: StreamWriterConfig,
  record: DynamoDBRecord,
  err: Error,
): Promise<boolean> {
  try {
    const at = await parkRecord(deps.s3, config, record);
    // A parked change is missing from the backup until someone replays it: alarm on it.
    countForTable(deps.metrics, parkedTable(record), 'RecordsParked', 1);
    deps.log.error('record can never be stored; parked in the dead-letter folder', {
      sequenceNumber: record.dynamodb?.SequenceNumber,
      deadLetterKey: at,
      error: err.name,
    });
    return true;
  } catch {
    return false;
  }
}

/** The Lambda handler's contract over injected clients: what Lambda and the local runner call. */
export function streamHandler(
  deps: StreamWriterDeps,
  config: StreamWriterConfig,
): (event: DynamoDBStreamEvent) => Promise<BatchOutcome> {
  return (event) => writeStreamBatch(deps, config, event);
}

type Planned = { record: DynamoDBRecord; change: BackupWrite | Error };

/** Groups records by object key, keeping stream order inside each group. */
function groupByItem(config: StreamWriterConfig, records: DynamoDBRecord[]): Map<string, Planned[]> {
  const groups = new Map<string, Planned[]>();
  for (const record of records) {
    let change: BackupWrite | Error;
    try {
      // Inside the try: a record whose ARN names no table is parked like any unreadable record.
      change = changeFromRecord(locationOf(config, record), record);
    } catch (err) {
      if (err instanceof ConfigurationError) throw err;
      change = err as Error;
    }
    // A record that cannot be read still holds its place: it fails alone, in order.
    const id =
      change instanceof Error ? `!${record.eventID ?? record.dynamodb?.SequenceNumber}` : change.objectKey;
    const group = groups.get(id);
    if (group) group.push({ record, change });
    else groups.set(id, [{ record, change }]);
  }
  return groups;
}

function locationOf(config: StreamWriterConfig, record: DynamoDBRecord): BackupLocation {
  return backupLocation(config.bucket, tableFromStreamArn(record.eventSourceARN), config.prefix ?? '');
}

async function recordManifests(
  deps: StreamWriterDeps,
  config: StreamWriterConfig,
  records: DynamoDBRecord[],
) {
  if (!deps.dynamodb || records.length === 0) return;
  const oldestByTable = new Map<string, number>();
  for (const r of records) {
    let table: string;
    try {
      table = tableFromStreamArn(r.eventSourceARN);
    } catch {
      continue; // parked by the write loop
    }
    const t = Math.round((r.dynamodb?.ApproximateCreationDateTime ?? Date.now() / 1000) * 1000);
    oldestByTable.set(table, Math.min(oldestByTable.get(table) ?? t, t));
  }
  const now = Date.now();
  for (const [table, oldest] of oldestByTable) {
    const cacheKey = `${config.bucket}/${config.prefix ?? ''}/${table}`;
    if ((manifestSeen.get(cacheKey) ?? 0) > now - MANIFEST_TTL_MS) continue;
    try {
      await recordManifest(
        deps.s3,
        deps.dynamodb,
        backupLocation(config.bucket, table, config.prefix ?? ''),
        oldest,
      );
      manifestSeen.set(cacheKey, now);
    } catch (err) {
      // The changes matter more than the description: back them up, retry the description later.
      deps.log.warn('table description not recorded', {
        table,
        error: (err as Error).name,
        reason: (err as Error).message,
      });
    }
  }
}

/** Where a poison record is kept: `<prefix><table>/_dead-letter/<sequence number>.json`. */
export async function parkRecord(
  s3: S3Client,
  config: StreamWriterConfig,
  record: DynamoDBRecord,
): Promise<string> {
  const table = parkedTable(record);
  const prefix = config.prefix ? (config.prefix.endsWith('/') ? config.prefix : `${config.prefix}/`) : '';
  const id = record.dynamodb?.SequenceNumber ?? record.eventID ?? String(Date.now());
  const key = `${prefix}${table}/_dead-letter/${id}.json`;
  await s3.send(
    new PutObjectCommand({
      Bucket: config.bucket,
      Key: key,
      Body: JSON.stringify({ Records: [record] }),
      ContentType: 'application/json',
    }),
  );
  return key;
}

/** The table folder a poison record is parked under. */
function parkedTable(record: DynamoDBRecord): string {
  try {
    return tableFromStreamArn(record.eventSourceARN);
  } catch {
    return 'unknown-table'; // a record without a usable ARN is parked all the same
  }
}

/** A short, non-reversible tag of an object key for logs: keys can be personal data too. */
export const keyHash = (objectKey: string): string =>
  createHash('sha256').update(objectKey).digest('hex').slice(0, 12);
