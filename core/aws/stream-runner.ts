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
import { loadCheckpoint, type StreamCheckpoint, saveCheckpoint } from '../checkpoint-file';
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

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

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
    const label = Date.parse(streamArn.split('/stream/')[1] ?? '');
    await deps.onGap?.({
      fromMs: stored.lastChangeTimeMs ?? 0,
      toMs: Number.isNaN(label) ? Date.now() : label,
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
      const run = readShard(deps, options, streamArn, shard, checkpoint, summary).then((state) => {
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
    // Re-list shards now and then: children appear when a parent closes.
    await Promise.race([Promise.race(active.values()), sleep(10_000, options.signal)]);
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

async function readShard(
  deps: StreamRunnerDeps,
  options: StreamRunnerOptions,
  streamArn: string,
  shard: ShardInfo,
  checkpoint: StreamCheckpoint,
  summary: RunSummary,
): Promise<ShardState> {
  checkpoint.shards[shard.shardId] ??= {};
  const progress = checkpoint.shards[shard.shardId] as { lastSequenceNumber?: string; closed?: boolean };
  const iteratorFrom = async (at?: string): Promise<string | undefined> => {
    const after = progress.lastSequenceNumber;
    const out = await deps.streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.shardId,
        ...(at
          ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: at }
          : after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return out.ShardIterator;
  };
  let iterator = await iteratorFrom();
  let empties = 0;
  let trimmedFrom: number | undefined;
  let backoffMs = 200;
  while (iterator) {
    if (options.signal?.aborted) return 'stopped';
    let records: StreamRecord[];
    let next: string | undefined;
    try {
      const out = await deps.streams.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(options.batchSize ?? 100, 1000) }),
      );
      records = out.Records ?? [];
      next = out.NextShardIterator;
    } catch (err) {
      if (err instanceof ExpiredIteratorException) {
        iterator = await iteratorFrom();
        continue;
      }
      if (err instanceof TrimmedDataAccessException) {
        deps.log.error(
          'stream records were trimmed before they were read: the backup has a gap; run a backfill',
          {
            shardId: shard.shardId,
            after: progress.lastSequenceNumber,
          },
        );
        delete progress.lastSequenceNumber;
        iterator = await iteratorFrom();
        continue;
      }
      throw err;
    }
    if (records.length === 0) {
      if (!next) break;
      iterator = next;
      if (++empties >= 3 && options.drain) return 'caught-up';
      await sleep(options.pollIntervalMs ?? 1000, options.signal);
      continue;
    }
    empties = 0;
    summary.batches++;
    const firstTime = records[0]?.dynamodb?.ApproximateCreationDateTime?.getTime();
    if (trimmedFrom !== undefined) {
      await deps.onGap?.({ fromMs: trimmedFrom, toMs: firstTime ?? Date.now(), reason: 'records trimmed' });
      trimmedFrom = undefined;
    }
    const response = await deps.handler(lambdaEvent(records, streamArn));
    const failed = lowestSequence(response.batchItemFailures.map((f) => f.itemIdentifier));
    if (failed === undefined) {
      summary.records += records.length;
      const last = records[records.length - 1]?.dynamodb;
      if (last?.SequenceNumber) progress.lastSequenceNumber = last.SequenceNumber;
      const lastTime = last?.ApproximateCreationDateTime?.getTime();
      if (lastTime) checkpoint.lastChangeTimeMs = Math.max(checkpoint.lastChangeTimeMs ?? 0, lastTime);
      await saveCheckpoint(options.checkpointFile, checkpoint);
      iterator = next;
      backoffMs = 200;
      continue;
    }
    // As Lambda does: everything before the lowest failure is done; retry from it, after a pause.
    const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
    if (index > 0) {
      summary.records += index;
      const done = records[index - 1]?.dynamodb?.SequenceNumber;
      if (done) progress.lastSequenceNumber = done;
      await saveCheckpoint(options.checkpointFile, checkpoint);
    }
    summary.retries++;
    deps.log.warn('batch partly failed; retrying from the lowest failed record', {
      shardId: shard.shardId,
      sequenceNumber: failed,
      backoffMs,
    });
    await sleep(backoffMs, options.signal);
    backoffMs = Math.min(backoffMs * 2, 30_000);
    iterator = await iteratorFrom(failed);
  }
  progress.closed = true;
  await saveCheckpoint(options.checkpointFile, checkpoint);
  return 'closed';
}
