import { setTimeout as delay } from 'node:timers/promises';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import {
  loadCheckpoint,
  type ShardProgress,
  type StreamCheckpoint,
  saveCheckpoint,
} from '../checkpoint-file';
import { ConfigurationError } from '../errors';
import type { Gap } from '../gaps';
import type { Log } from '../log';
import { lowestSequence, readyShards, type ShardInfo } from '../shard-order';
import { lambdaEvent } from '../stream-event';

export interface StreamRunnerOptions {
  table: string;
  checkpointFile: string;
  /** Process what is available, then return. */
  drain: boolean;
  /** Records per handler call (GetRecords Limit, at most 1000). @default 100 */
  batchSize?: number;
  /** Wait between polls of an open shard with nothing new. @default 1000 */
  pollIntervalMs?: number;
  /**
   * After a batch smaller than batchSize, wait this long before reading on, so the next batch
   * gathers what arrives meanwhile (as Lambda's MaximumBatchingWindowInSeconds does): fewer and
   * larger batches, so fewer GetRecords calls and change index objects, for that much lag.
   * @default 0
   */
  batchWindowMs?: number;
  /** Stops the runner cleanly between batches. */
  signal?: AbortSignal;
}

export interface StreamRunnerDeps {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  log: Log;
  /** The Lambda handler, or anything with its contract. */
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
  /** Called when the backup cannot be complete (records trimmed, stream replaced). */
  onGap?: (gap: Gap) => Promise<void>;
}

export interface RunSummary {
  records: number;
  batches: number;
  retries: number;
  shards: number;
}

/**
 * Waits `ms`, or less if `signal` aborts. Node's timer removes its abort listener when it ends,
 * so a runner following a stream for days does not pile up listeners on its one signal.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}

/**
 * When a stream was created, from its label (`.../stream/2026-03-01T09:00:00.000`, UTC), or
 * undefined if the label is not a time.
 */
function streamCreatedMs(streamArn: string): number | undefined {
  const label = streamArn.split('/stream/')[1] ?? '';
  const ms = Date.parse(/Z$/.test(label) ? label : `${label}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Reads a table's stream the way Lambda's event source mapping does and feeds the handler:
 * every shard, parents before children, new shards picked up, partial batch failures retried
 * from the lowest failed record, and each shard's progress checkpointed to a file so a restart
 * (also after kill -9) resumes where it stopped. At-least-once, like Lambda: after a crash the
 * last batch is delivered again, which the backup tolerates.
 */
export async function runStream(deps: StreamRunnerDeps, options: StreamRunnerOptions): Promise<RunSummary> {
  const streamArn = await streamOf(deps.dynamodb, options.table);
  const stored = await loadCheckpoint(options.checkpointFile);
  let checkpoint: StreamCheckpoint = { streamArn, shards: {} };
  if (stored && stored.streamArn === streamArn) checkpoint = stored;
  else if (stored) {
    deps.log.warn(
      'the table has a new stream; the old one is no longer read (run a backfill to close any gap)',
      {
        oldStream: stored.streamArn,
        newStream: streamArn,
      },
    );
    // Changes between the last one read from the old stream and the new stream's creation are lost.
    await deps.onGap?.({
      fromMs: stored.lastChangeTimeMs ?? 0,
      toMs: streamCreatedMs(streamArn) ?? Date.now(),
      reason: 'stream replaced',
    });
  }
  const summary: RunSummary = { records: 0, batches: 0, retries: 0, shards: 0 };
  const finished = new Set(
    Object.entries(checkpoint.shards)
      .filter(([, s]) => s.closed)
      .map(([id]) => id),
  );
  const caughtUp = new Set<string>();
  const active = new Map<string, Promise<void>>();

  for (;;) {
    if (options.signal?.aborted) break;
    const shards = await listShards(deps.streams, streamArn);
    for (const shard of readyShards(shards, finished)) {
      if (active.has(shard.shardId) || caughtUp.has(shard.shardId)) continue;
      summary.shards++;
      const run = readShard({ deps, options, streamArn, checkpoint, summary }, shard).then((state) => {
        active.delete(shard.shardId);
        if (state === 'closed') finished.add(shard.shardId);
        if (state === 'caught-up') caughtUp.add(shard.shardId);
      });
      active.set(shard.shardId, run);
    }
    if (active.size === 0) {
      const open = shards.filter((s) => !finished.has(s.shardId));
      if (options.drain && open.every((s) => caughtUp.has(s.shardId))) break;
      await sleep(options.pollIntervalMs ?? 1000, options.signal);
      continue;
    }
    // Re-list shards now and then: children appear when a parent closes. The wait ends with the
    // race, so its timer does not hold a drained process open (an abort ends the shards' reads).
    const relist = new AbortController();
    await Promise.race([Promise.race(active.values()), sleep(10_000, relist.signal)]);
    relist.abort();
  }
  await Promise.all(active.values());
  return summary;
}

async function streamOf(dynamodb: DynamoDBClient, table: string): Promise<string> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
  const spec = Table?.StreamSpecification;
  if (!spec?.StreamEnabled || !Table?.LatestStreamArn) {
    throw new ConfigurationError(
      `Table ${table} has no stream: enable one with StreamViewType NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name ${table} --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)`,
    );
  }
  if (spec.StreamViewType === 'KEYS_ONLY' || spec.StreamViewType === 'OLD_IMAGE') {
    throw new ConfigurationError(
      `Table ${table} has a ${spec.StreamViewType} stream, which carries no new image: set its StreamViewType to NEW_AND_OLD_IMAGES (or NEW_IMAGE)`,
    );
  }
  return Table.LatestStreamArn;
}

async function listShards(streams: DynamoDBStreamsClient, streamArn: string): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  let start: string | undefined;
  do {
    const out = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
    );
    for (const s of out.StreamDescription?.Shards ?? []) {
      if (s.ShardId)
        shards.push({ shardId: s.ShardId, ...(s.ParentShardId ? { parentShardId: s.ParentShardId } : {}) });
    }
    start = out.StreamDescription?.LastEvaluatedShardId;
  } while (start);
  return shards;
}

type ShardState = 'closed' | 'caught-up' | 'stopped';

/**
 * Change times are stamped rounded down (to the second on AWS, the minute on DynamoDB Local): a
 * change made at or after an instant is stamped no earlier than that instant's minute.
 */
const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;

/** What every shard of one run shares. */
interface RunContext {
  deps: StreamRunnerDeps;
  options: StreamRunnerOptions;
  streamArn: string;
  checkpoint: StreamCheckpoint;
  summary: RunSummary;
}

const readShard = (run: RunContext, shard: ShardInfo): Promise<ShardState> =>
  new ShardReader(run, shard).read();

/** Reads one shard to its end (or until caught up, or stopped), feeding the handler batch by batch. */
class ShardReader {
  private readonly progress: ShardProgress;
  /** Set while records after the last one read are known to be trimmed: where that gap starts. */
  private trimmedFrom: number | undefined;
  private backoffMs = 200;

  constructor(
    private readonly run: RunContext,
    private readonly shard: ShardInfo,
  ) {
    run.checkpoint.shards[shard.shardId] ??= {};
    this.progress = run.checkpoint.shards[shard.shardId] as ShardProgress;
  }

  async read(): Promise<ShardState> {
    const { options } = this.run;
    let iterator = await this.iteratorFrom();
    let empties = 0;
    while (iterator) {
      if (options.signal?.aborted) {
        await this.settleTrim();
        return 'stopped';
      }
      const page = await this.records(iterator);
      if (!page) {
        iterator = await this.iteratorFrom();
        continue;
      }
      if (page.records.length === 0) {
        if (!page.next) break;
        iterator = page.next;
        if (++empties >= 3 && options.drain) {
          await this.settleTrim();
          return 'caught-up';
        }
        await sleep(options.pollIntervalMs ?? 1000, options.signal);
        continue;
      }
      empties = 0;
      const failed = await this.handle(page.records);
      iterator = failed === undefined ? page.next : await this.iteratorFrom(failed);
      const partial = page.records.length < batchLimit(options);
      if (failed === undefined && partial && options.batchWindowMs)
        await sleep(options.batchWindowMs, options.signal);
    }
    await this.settleTrim();
    this.progress.closed = true;
    await saveCheckpoint(options.checkpointFile, this.run.checkpoint);
    return 'closed';
  }

  /** One GetRecords; undefined when the iterator must be fetched again (expired, or trimmed). */
  private async records(iterator: string): Promise<{ records: StreamRecord[]; next?: string } | undefined> {
    try {
      const out = await this.run.deps.streams.send(
        new GetRecordsCommand({
          ShardIterator: iterator,
          Limit: batchLimit(this.run.options),
        }),
      );
      return {
        records: out.Records ?? [],
        ...(out.NextShardIterator ? { next: out.NextShardIterator } : {}),
      };
    } catch (err) {
      if (err instanceof ExpiredIteratorException) return undefined;
      if (err instanceof TrimmedDataAccessException) {
        this.trimmed();
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Feeds one batch to the handler and checkpoints what it wrote. Returns the lowest failed
   * sequence number to read again from, as Lambda does (after a pause), or undefined.
   */
  private async handle(records: StreamRecord[]): Promise<string | undefined> {
    const { deps, options, summary, checkpoint, streamArn } = this.run;
    summary.batches++;
    // Stored before this batch moves the checkpoint past the trim.
    await this.recordTrim(records[0]?.dynamodb?.ApproximateCreationDateTime?.getTime() ?? Date.now());
    const response = await deps.handler(lambdaEvent(records, streamArn));
    const failed = lowestSequence(response.batchItemFailures.map((f) => f.itemIdentifier));
    // Everything before the lowest failure is done.
    const upTo =
      failed === undefined ? records.length : records.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
    if (upTo > 0) {
      summary.records += upTo;
      this.done(records[upTo - 1]);
      await saveCheckpoint(options.checkpointFile, checkpoint);
    }
    if (failed === undefined) {
      this.backoffMs = 200;
      return undefined;
    }
    summary.retries++;
    deps.log.warn('batch partly failed; retrying from the lowest failed record', {
      shardId: this.shard.shardId,
      sequenceNumber: failed,
      backoffMs: this.backoffMs,
    });
    await sleep(this.backoffMs, options.signal);
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    return failed;
  }

  private trimmed(): void {
    // What is lost starts right after the last record read on this shard, so its change time is
    // the exact start. Not the checkpoint's newest time: other shards may be ahead of this one.
    // Nothing read on it yet: no record in the stream is older than the stream.
    this.trimmedFrom ??= this.progress.lastChangeTimeMs ?? minuteOf(streamCreatedMs(this.run.streamArn) ?? 0);
    this.run.deps.log.error(
      'stream records were trimmed before they were read: the backup has a gap; run a backfill',
      {
        shardId: this.shard.shardId,
        after: this.progress.lastSequenceNumber,
        fromMs: this.trimmedFrom,
      },
    );
  }

  private async recordTrim(toMs: number): Promise<void> {
    if (this.trimmedFrom === undefined) return;
    await this.run.deps.onGap?.({ fromMs: this.trimmedFrom, toMs, reason: 'records trimmed' });
    this.trimmedFrom = undefined;
  }

  /** Leaving the shard with nothing read since a trim: the gap ends now, the horizon is the position. */
  private async settleTrim(): Promise<void> {
    if (this.trimmedFrom === undefined) return;
    const now = Date.now();
    await this.recordTrim(now);
    delete this.progress.lastSequenceNumber;
    this.progress.lastChangeTimeMs = minuteOf(now);
    await saveCheckpoint(this.run.options.checkpointFile, this.run.checkpoint);
  }

  private async iteratorFrom(at?: string): Promise<string | undefined> {
    // After a trim the checkpoint keeps its old position until new records are written, so a
    // crash before the gap marker is stored meets the trim again instead of forgetting it.
    const after = this.trimmedFrom === undefined ? this.progress.lastSequenceNumber : undefined;
    try {
      const out = await this.run.deps.streams.send(
        new GetShardIteratorCommand({
          StreamArn: this.run.streamArn,
          ShardId: this.shard.shardId,
          ...(at
            ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: at }
            : after
              ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
              : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      return out.ShardIterator;
    } catch (err) {
      if (!(err instanceof TrimmedDataAccessException) || !(at || after)) throw err;
      this.trimmed();
      return this.iteratorFrom();
    }
  }

  private done(record: StreamRecord | undefined): void {
    const sequence = record?.dynamodb?.SequenceNumber;
    const time = record?.dynamodb?.ApproximateCreationDateTime?.getTime();
    if (sequence) this.progress.lastSequenceNumber = sequence;
    if (time === undefined) return;
    this.progress.lastChangeTimeMs = time;
    this.run.checkpoint.lastChangeTimeMs = Math.max(this.run.checkpoint.lastChangeTimeMs ?? 0, time);
  }
}

/** Records per GetRecords call, and so per handler call. */
const batchLimit = (options: StreamRunnerOptions): number => Math.min(options.batchSize ?? 100, 1000);
