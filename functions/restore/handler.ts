import { Logger } from '@aws-lambda-powertools/logger';
import { dynamodbClient, s3Client } from '../../core/aws/clients';
import { readManifest } from '../../core/aws/manifest-store';
import { type PackSummary, writePack } from '../../core/aws/pack-writer';
import { checkRestore, type RestoreSummary, restore } from '../../core/aws/restore';
import { prepareTarget } from '../../core/aws/target-table';
import { checkRestoreEvent, planPartitions, type RestoreEvent } from '../../core/restore-event';

/** Lambda entry for restores; the event is documented on RestoreEvent (core/restore-event.ts). */
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ddb-rewind-restore' });
const deps = { s3: s3Client(), dynamodb: dynamodbClient(), log: logger };

export async function handler(
  event: RestoreEvent,
): Promise<RestoreSummary | PackSummary | { at: number; partitions: RestoreEvent[] }> {
  const { source, atMs, targetTable, concurrency, maxWcu } = checkRestoreEvent(event);
  if (event.action === 'pack') return writePack(deps, source, concurrency ? { concurrency } : {});
  const request = {
    source,
    atMs,
    targetTable,
    mode: event.mode ?? 'upsert',
    createTable: Boolean(event.createTable),
    dryRun: Boolean(event.dryRun),
    inPlace: Boolean(event.inPlace),
    ...(concurrency ? { concurrency } : {}),
    ...(maxWcu ? { maxWcu } : {}),
    ...(event.keys ? { keys: event.keys } : {}),
    ...(event.partition ? { partition: event.partition } : {}),
  } as const;
  if (event.action === 'plan') {
    await checkRestore(deps, request);
    if (event.createTable && !event.dryRun)
      await prepareTarget(deps.dynamodb, await readManifest(deps.s3, source), targetTable, true);
    return planPartitions(event, atMs);
  }
  return restore(deps, request);
}
