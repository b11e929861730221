import { InputError } from './errors';
import { checkJobId, JOB_KINDS, type JobKind, type JobPlan, type JobTask } from './job-model';
import { backupLocation } from './object-key';

/**
 * The events of the job function (functions/jobs/handler.ts), one per step of a job's state
 * machine (infra/job-workflow.ts):
 * - plan: the execution input with `job`, `step: "plan"`, `table`, `bucket` and `prefix` merged
 *   over it; the other fields are the job's request (each job's parse<Kind>Event checks them);
 * - prepare, partition: one task of the plan (JobTask), or the `next` of a task that ran out of time;
 * - finish: the plan as the plan step returned it (its `step` is already "finish").
 */
export type CheckedJobEvent =
  | { job: JobKind; step: 'plan'; request: Record<string, unknown> }
  | { job: JobKind; step: 'prepare' | 'partition'; task: JobTask }
  | { job: JobKind; step: 'finish'; plan: JobPlan };

/** The kinds `DDB_REWIND_JOBS` names (comma-separated); every kind when it is not set. */
export function allowedJobs(env: string | undefined): JobKind[] {
  if (env === undefined || env.trim() === '') return [...JOB_KINDS];
  return env.split(',').map((name) => {
    const kind = name.trim();
    if (!JOB_KINDS.includes(kind as JobKind)) {
      throw new InputError(
        `Expected DDB_REWIND_JOBS to name jobs among ${JOB_KINDS.join(', ')}, got \`${kind}\``,
      );
    }
    return kind as JobKind;
  });
}

/** Checks the parts of an event every step relies on, before anything is read or written. */
export function checkJobEvent(event: unknown, allowed: readonly JobKind[]): CheckedJobEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new InputError(`Expected the job event to be a JSON object, got ${JSON.stringify(event)}`);
  const e = event as Record<string, unknown>;
  const job = e.job as JobKind;
  if (!JOB_KINDS.includes(job))
    throw new InputError(`Expected "job" to be one of ${JOB_KINDS.join(', ')}, got ${JSON.stringify(e.job)}`);
  if (!allowed.includes(job))
    throw new InputError(`This function runs ${allowed.join(', ')} jobs only, not ${job}`);
  switch (e.step) {
    case 'plan':
      return { job, step: 'plan', request: e };
    case 'prepare':
    case 'partition':
      return { job, step: e.step, task: checkTask(e) };
    case 'finish':
      return { job, step: 'finish', plan: checkPlan(e) };
    default:
      throw new InputError(
        `Expected "step" to be plan, prepare, partition or finish, got ${JSON.stringify(e.step)}`,
      );
  }
}

/** The run id and the backup location, which name the S3 keys a step reads and writes. */
function checkRef(e: Record<string, unknown>): void {
  checkJobId(e.jobId);
  const text = (v: unknown) => typeof v === 'string';
  if (!text(e.bucket) || !text(e.table) || (e.prefix !== undefined && !text(e.prefix)))
    throw new InputError(
      'Expected "bucket", "table" and "prefix" of the job as strings, as its plan made them',
    );
  backupLocation(e.bucket as string, e.table as string, (e.prefix as string | undefined) ?? '');
}

function checkTask(e: Record<string, unknown>): JobTask {
  checkRef(e);
  if (typeof e.id !== 'string' || !/^[ps]\d{4}$/.test(e.id))
    throw new InputError(
      `Expected "id" to be a task id of the plan (like p0003), got ${JSON.stringify(e.id)}`,
    );
  if (!Number.isSafeInteger(e.part) || (e.part as number) < 0)
    throw new InputError(`Expected "part" to be a whole number from 0, got ${JSON.stringify(e.part)}`);
  if (typeof e.params !== 'object' || e.params === null)
    throw new InputError(`Expected "params" of task ${e.id} to be an object`);
  return e as unknown as JobTask;
}

function checkPlan(e: Record<string, unknown>): JobPlan {
  checkRef(e);
  if (!Array.isArray(e.prepare) || !Array.isArray(e.partitions))
    throw new InputError(
      'Expected the finish event to be the plan, with its "prepare" and "partitions" tasks',
    );
  return e as unknown as JobPlan;
}
