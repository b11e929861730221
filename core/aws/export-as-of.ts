import { splitConcurrency } from '../job-parts';
import { type Log, silentLog } from '../log';
import type { BackupLocation } from '../object-key';
import type { Partition } from '../partition';
import type { ExportFormat } from './data-sink';
import type { Registered } from './export-catalog';
import { exportJob } from './jobs/export-job';
import type { RequestSummary } from './request-tally';
import type { RestoreDeps } from './restore';
import { runJob } from './run-job';

export interface ExportRequest {
  source: BackupLocation;
  atMs: number;
  /**
   * One gzipped file: a local path, `s3://bucket/key`, or `-` (stdout). A folder (a local path
   * ending in `/`, or `s3://bucket/prefix/`): DynamoDB's export layout (export-manifest.ts).
   */
  out: string;
  /** Only these hash prefixes. @default all 256 */
  partition?: Partition;
  /** Ranges of hash prefixes written by separate tasks (a folder `out` only). @default 1 */
  partitions?: number;
  /** Most S3 requests in flight reading the backup (per task, in the job). @default 32 */
  concurrency?: number;
  clockSkewMs?: number;
  /** Read bodies from the table's best pack when it holds the chosen version. @default true */
  usePack?: boolean;
  /** An ES module applied to every item written (core/transform.ts): CLI only. */
  transform?: string;
  /** The data files' format (a folder `out`). @default 'dynamodb-json' */
  format?: ExportFormat;
  /**
   * An incremental export of (sinceMs, atMs] in DynamoDB's incremental format
   * (incremental-export.ts) instead of the table as of `atMs`: a folder `out`, DynamoDB JSON.
   */
  sinceMs?: number;
}

export interface ExportSummary extends RequestSummary {
  atMs: number;
  out: string;
  items: number;
  versionsScanned: number;
  durationMs: number;
  warnings: string[];
  /** A folder export's id, its data files, and where its manifest-summary.json is. */
  exportId?: string;
  files?: number;
  manifest?: string;
  /** An incremental export: how many items changed, and how they were found (index or listing). */
  changesFrom?: { changedItems: number; source: 'index' | 'listing'; note?: string };
  /** Where the export was registered in Glue (the deployed export workflow's `exportTables`). */
  catalog?: Registered;
  jobId: string;
  partitions: number;
}

/**
 * Writes the table as of T in DynamoDB's export format (gzipped JSON lines, `{"Item":{...}}` in
 * DynamoDB JSON), which DynamoDB's ImportTable reads (InputFormat DYNAMODB_JSON, GZIP), for very
 * large restores and for analytics: one file, or a folder in the layout of DynamoDB's own
 * export to S3. The export job (jobs/export-job.ts) run in this process; it streams, so memory
 * does not grow with the table.
 */
export async function exportAsOf(
  given: Omit<RestoreDeps, 'log'> & { log?: Log },
  req: ExportRequest,
): Promise<ExportSummary> {
  const { tasksAtOnce, perTask } = splitConcurrency(req.concurrency ?? 32, req.partitions ?? 1);
  const ctx = {
    s3: given.s3,
    dynamodb: given.dynamodb,
    log: given.log ?? silentLog,
    ...(given.now ? { now: given.now } : {}),
  };
  return runJob(ctx, exportJob, { ...req, concurrency: perTask }, { concurrency: tasksAtOnce });
}
