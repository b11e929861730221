import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { dynamodbClient, s3Client } from '../../core/aws/clients';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { ConfigurationError } from '../../core/errors';
import { wholeNumber } from '../../core/number-arg';

/**
 * Lambda entry for the table's stream. Environment: BACKUP_BUCKET (required), BACKUP_PREFIX,
 * WRITER_CONCURRENCY (default 16). The table comes from each record's eventSourceARN.
 */
const bucket = process.env.BACKUP_BUCKET ?? '';
const prefix = process.env.BACKUP_PREFIX ?? '';
// Checked at start-up: a bad value fails the function's init with one line, not NaN at run time.
const concurrency = wholeNumber('WRITER_CONCURRENCY', process.env.WRITER_CONCURRENCY, {
  min: 1,
  max: 1000,
  fallback: 16,
});
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ddb-rewind-writer' });
const metrics = new Metrics({ namespace: 'ddb-rewind', serviceName: 'writer' });
const deps = { s3: s3Client(), dynamodb: dynamodbClient(), log: logger, metrics };

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  if (!bucket)
    throw new ConfigurationError('BACKUP_BUCKET is not set: set it to the versioned backup bucket');
  const out = await writeStreamBatch(deps, { bucket, prefix, concurrency }, event);
  logger.info('batch written', { records: event.Records.length, written: out.written, failed: out.failed });
  if (out.lagMs !== undefined) {
    metrics.addDimension('table', event.Records[0]?.eventSourceARN?.split('/')[1] ?? 'unknown');
    metrics.addMetric('BackupLagMs', MetricUnit.Milliseconds, out.lagMs);
    metrics.publishStoredMetrics();
  }
  return { batchItemFailures: out.batchItemFailures };
}
