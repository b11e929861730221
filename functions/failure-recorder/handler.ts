import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { s3Client } from '../../core/aws/clients';
import { recordLostBatches } from '../../core/aws/failure-recorder';
import { ConfigurationError } from '../../core/errors';

/**
 * Lambda entry for the writer's on-failure queue: each message (a stream batch Lambda gave up on)
 * becomes a gap marker in the backup. Environment: BACKUP_BUCKET (required), BACKUP_PREFIX. The
 * table comes from each record's streamArn.
 */
const bucket = process.env.BACKUP_BUCKET ?? '';
const prefix = process.env.BACKUP_PREFIX ?? '';
const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ddb-rewind-failure-recorder',
});
// The `service` dimension the LostBatches alarm names (infra/defaults.ts LOST_BATCHES_METRIC).
const metrics = new Metrics({ namespace: 'ddb-rewind', serviceName: 'failure-recorder' });
const deps = { s3: s3Client(), log: logger, metrics };

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  if (!bucket)
    throw new ConfigurationError('BACKUP_BUCKET is not set: set it to the versioned backup bucket');
  const out = await recordLostBatches(deps, { bucket, prefix }, event);
  return { batchItemFailures: out.batchItemFailures };
}
