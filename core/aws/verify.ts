import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { splitConcurrency } from '../job-parts';
import { type Log, silentLog } from '../log';
import type { MetricSink } from '../metrics';
import type { BackupLocation, ItemKey } from '../object-key';
import { verifyJob } from './jobs/verify-job';
import { runJob } from './run-job';

export type DriftKind = 'missing-from-backup' | 'only-in-backup' | 'differs';

/** One item whose backup does not match the table: keys and hashes, never values by default. */
export interface Drift {
  kind: DriftKind;
  objectKey: string;
  key?: ItemKey;
  tableHash?: string;
  backupHash?: string;
}

export interface VerifyReport {
  inSync: boolean;
  checkedItems: number;
  sampledPrefixes: number;
  /** Up to {@link MAX_DRIFT_SAMPLES} of the drifting items; `counts` counts them all. */
  drift: Drift[];
  counts: Record<DriftKind, number>;
  /** Gaps not yet covered by a later backfill: the backup may miss changes made then. */
  warnings: string[];
  durationMs: number;
  jobId: string;
  partitions: number;
}

/** Drift items a report (and each task's stored result) carries: a Step Functions output stays small. */
export const MAX_DRIFT_SAMPLES = 50;

export interface VerifyRequest {
  source: BackupLocation;
  /** Share of the 256 hash prefixes to check, 1-100. @default 100 */
  samplePercent?: number;
  /** How long a difference may take to settle (changes still in the stream) before it counts. @default 10000 */
  settleMs?: number;
  /** Most S3 requests in flight reading the backup (per task, in the job). @default 32 */
  concurrency?: number;
  /** Ranges of the sampled hash prefixes compared by separate tasks. @default 1 */
  partitions?: number;
  /** Parallel-scan segments of the live table's one read. @default one per 250,000 items */
  spillSegments?: number;
}

/**
 * Compares the live table with the backup's latest state: items missing from the backup, items
 * only in the backup, items whose images differ. A difference is checked again after the
 * settle window, so changes still on their way through the stream are not reported as drift.
 * The verify job (jobs/verify-job.ts) run in this process; `metrics` gets `VerifyDrift`.
 */
export async function verify(
  deps: { s3: S3Client; dynamodb: DynamoDBClient; log?: Log; metrics?: MetricSink },
  req: VerifyRequest,
): Promise<VerifyReport> {
  const { tasksAtOnce, perTask } = splitConcurrency(req.concurrency ?? 32, req.partitions ?? 1);
  const ctx = {
    s3: deps.s3,
    dynamodb: deps.dynamodb,
    log: deps.log ?? silentLog,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  };
  return runJob(ctx, verifyJob, { ...req, concurrency: perTask }, { concurrency: tasksAtOnce });
}
