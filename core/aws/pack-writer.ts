import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { splitConcurrency } from '../job-parts';
import type { Log } from '../log';
import type { BackupLocation } from '../object-key';
import { dynamodbClient } from './clients';
import { type PackSummary, packJob } from './jobs/pack-job';
import { runJob } from './run-job';

export type { PackSummary };

/**
 * Writes a pack of the table's backup: for every item the version holding it as of now (for a
 * deleted item, its tombstone) with body and metadata. Items whose version is in the previous
 * pack are copied from it, so a pack made daily reads only what changed since the last one.
 * The pack job (jobs/pack-job.ts) run in this process: `partitions` tasks write their prefixes'
 * chunks, and pack.json goes last: until it exists, readers ignore the pack; a killed run
 * leaves an unfinished pack that is never used.
 */
export async function writePack(
  deps: { s3: S3Client; log: Log; now?: () => number; dynamodb?: DynamoDBClient },
  loc: BackupLocation,
  options: { concurrency?: number; partitions?: number } = {},
): Promise<PackSummary> {
  const partitions = options.partitions ?? 1;
  const { tasksAtOnce, perTask } = splitConcurrency(options.concurrency ?? 32, partitions);
  const ctx = {
    s3: deps.s3,
    // The pack job reads and writes S3 only; the job context carries a DynamoDB client for all jobs.
    dynamodb: deps.dynamodb ?? dynamodbClient(),
    log: deps.log,
    ...(deps.now ? { now: deps.now } : {}),
  };
  return runJob(
    ctx,
    packJob,
    { source: loc, partitions, concurrency: perTask },
    { concurrency: tasksAtOnce },
  );
}
