import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Deadline, JobPlan, JobTask, TaskOutcome } from '../job-model';
import type { Log } from '../log';
import { TaskPool } from '../task-pool';

/** What every step of a job is given: clients from the environment, a log, a time budget. */
export interface JobContext {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  log: Log;
  now?: () => number;
  /** True once the step should stop starting new work (Lambda's remaining time). */
  deadline?: Deadline;
}

/**
 * A job written once: the CLI runs it with runJob, the Lambda handler step by step as the
 * Step Functions map calls it. `R` is the request, `S` the summary.
 */
export interface JobDefinition<R, P = unknown, T = unknown, S = unknown> {
  plan(ctx: JobContext, request: R): Promise<JobPlan<P, T>>;
  prepare?(ctx: JobContext, task: JobTask<T>): Promise<TaskOutcome<T>>;
  partition(ctx: JobContext, task: JobTask<T>): Promise<TaskOutcome<T>>;
  finish(ctx: JobContext, plan: JobPlan<P, T>): Promise<S>;
}

/**
 * The in-process executor: plan, every prepare task, every partition task (at most
 * `concurrency` at once, each carried on until done), finish. The same steps the state
 * machine runs, in the same order.
 */
export async function runJob<R, P, T, S>(
  ctx: JobContext,
  job: JobDefinition<R, P, T, S>,
  request: R,
  { concurrency = 4 }: { concurrency?: number } = {},
): Promise<S> {
  const plan = await job.plan(ctx, request);
  const prepare = job.prepare;
  if (prepare) await runTasks(plan.prepare, concurrency, (t) => prepare(ctx, t));
  await runTasks(plan.partitions, concurrency, (t) => job.partition(ctx, t));
  return job.finish(ctx, plan);
}

async function runTasks<T>(
  tasks: Array<JobTask<T>>,
  concurrency: number,
  run: (task: JobTask<T>) => Promise<TaskOutcome<T>>,
): Promise<void> {
  const pool = new TaskPool(concurrency);
  for (const first of tasks) {
    await pool.submit(async () => {
      let outcome = await run(first);
      while (!outcome.done) outcome = await run(outcome.next);
    });
  }
  await pool.drain();
}
