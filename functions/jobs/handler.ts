import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { dynamodbClient, glueClient, s3Client } from '../../core/aws/clients';
import type { ExportJobContext } from '../../core/aws/jobs/export-job';
import { JOBS } from '../../core/aws/jobs/registry';
import type { VerifyJobContext } from '../../core/aws/jobs/verify-job';
import { loadTaskLists, storeTaskLists } from '../../core/aws/task-lists';
import { InputError } from '../../core/errors';
import { allowedJobs, checkJobEvent } from '../../core/job-event';
import { deadlineFrom } from '../../core/job-model';

/**
 * Lambda entry of every job step (the JobWorkflow state machines call it; core/job-event.ts
 * documents the events). One function per job kind on AWS, each with its own role:
 * DDB_REWIND_JOBS names the kinds it runs.
 */
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ddb-rewind-jobs' });
const clients = { s3: s3Client(), dynamodb: dynamodbClient() };
// The export function of a construct with `exportTables` registers each export in this database.
const glueDatabase = process.env.DDB_REWIND_GLUE_DATABASE;
const catalog = glueDatabase ? { catalog: { glue: glueClient(), database: glueDatabase } } : {};
// The verify job's VerifyDrift, as an EMF log line with the dimensions its alarm names.
const metrics = new Metrics({ namespace: 'ddb-rewind', serviceName: 'verify' });

export async function handler(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) {
  const checked = checkJobEvent(event, allowedJobs(process.env.DDB_REWIND_JOBS));
  const registered = JOBS[checked.job];
  const ctx: VerifyJobContext & ExportJobContext = {
    ...clients,
    ...catalog,
    log: logger,
    metrics,
    ...(context ? { deadline: deadlineFrom(() => context.getRemainingTimeInMillis()) } : {}),
  };
  const { job } = registered;
  switch (checked.step) {
    case 'plan':
      return storeTaskLists(clients.s3, await job.plan(ctx, registered.parse(checked.request)));
    case 'prepare':
      if (!job.prepare) throw new InputError(`The ${checked.job} job has no prepare step`);
      return job.prepare(ctx, checked.task);
    case 'partition':
      return job.partition(ctx, checked.task);
    case 'finish':
      return job.finish(ctx, await loadTaskLists(clients.s3, checked.plan));
  }
}
