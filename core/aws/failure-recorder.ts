import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { gapOfLostBatch, type LostBatch, parseFailureRecord } from '../failure-record';
import type { Log } from '../log';
import { countForTable, type MetricSink } from '../metrics';
import { backupLocation } from '../object-key';
import { recordGap } from './gap-store';

export interface FailureRecorderDeps {
  s3: S3Client;
  log: Log;
  /** Receives `LostBatches` and `LostRecords`; omit to count nothing. */
  metrics?: MetricSink;
}

export interface FailureRecorderConfig {
  bucket: string;
  /** The backup's folder for all tables, as the writer has it. */
  prefix?: string;
}

export interface LostBatchesOutcome extends SQSBatchResponse {
  /** The batches now marked as gaps in the backup. */
  recorded: LostBatch[];
}

/**
 * Turns the messages of the writer's on-failure queue (stream batches Lambda gave up on) into
 * gap markers, so restores, exports and verify warn about them. Idempotent: a batch delivered
 * twice is the same marker.
 *
 * A message that is not a DynamoDB failure record, or whose marker could not be written, is
 * reported in batchItemFailures: SQS delivers it again, and after the queue's maxReceiveCount
 * moves it to the recorder's own dead-letter queue, where an alarm fires and the message is kept
 * as it came. No gap is guessed for a record that names no table or time: a wrong marker would
 * warn about the wrong instants and stay silent about the right ones.
 *
 * @example
 * const out = await recordLostBatches({ s3, log, metrics }, { bucket: 'backups' }, sqsEvent);
 */
export async function recordLostBatches(
  deps: FailureRecorderDeps,
  config: FailureRecorderConfig,
  event: SQSEvent,
): Promise<LostBatchesOutcome> {
  const outcomes = await Promise.all(event.Records.map((message) => recordOne(deps, config, message)));
  const recorded = outcomes.filter((o): o is LostBatch => o !== undefined);
  return {
    batchItemFailures: event.Records.filter((_, i) => outcomes[i] === undefined).map((m) => ({
      itemIdentifier: m.messageId,
    })),
    recorded,
  };
}

async function recordOne(
  deps: FailureRecorderDeps,
  config: FailureRecorderConfig,
  message: SQSRecord,
): Promise<LostBatch | undefined> {
  let batch: LostBatch;
  try {
    batch = parseFailureRecord(message.body);
  } catch (err) {
    deps.log.error('on-failure message is not a DynamoDB stream failure record; left to the redrive queue', {
      messageId: message.messageId,
      error: (err as Error).name,
      reason: (err as Error).message,
    });
    return undefined;
  }
  const gap = gapOfLostBatch(batch);
  const where = {
    messageId: message.messageId,
    table: batch.table,
    shardId: batch.shardId,
    startSequenceNumber: batch.startSequenceNumber,
    endSequenceNumber: batch.endSequenceNumber,
    batchSize: batch.batchSize,
    condition: batch.condition,
    from: new Date(gap.fromMs).toISOString(),
    to: new Date(gap.toMs).toISOString(),
  };
  try {
    await recordGap(deps.s3, backupLocation(config.bucket, batch.table, config.prefix ?? ''), gap);
  } catch (err) {
    deps.log.error('gap marker of a lost batch not written; SQS delivers the message again', {
      ...where,
      error: (err as Error).name,
      reason: (err as Error).message,
    });
    return undefined;
  }
  // Sequence numbers and times, no item data: enough to re-read the stream within its 24 h.
  deps.log.error('Lambda gave up on stream records: recorded as a gap; run `ddb-rewind backfill`', where);
  countForTable(deps.metrics, batch.table, 'LostBatches', 1);
  countForTable(deps.metrics, batch.table, 'LostRecords', batch.batchSize);
  return batch;
}
