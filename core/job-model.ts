import { randomBytes } from 'node:crypto';
import { InputError } from './errors';

/**
 * The one shape of every heavy job: plan -> (prepare tasks) -> partition tasks -> finish.
 *
 * - `plan` checks the request, writes nothing the job cannot redo, and names the tasks.
 * - `prepare` tasks (e.g. scan segments of a target table) all finish before any partition starts.
 * - `partition` tasks do the work, each on its own range (of hash prefixes, or scan segments),
 *   store their result under the job's scratch folder, and return only `done` (a Step Functions
 *   map's results stay small however many tasks run). A task that ran out of time returns the
 *   task that carries on from where it stopped.
 * - `finish` reads the stored results, writes the job's last object (a pack's pack.json, an
 *   export's manifest) and returns the summary.
 *
 * The CLI runs the tasks in-process (core/aws/run-job.ts); the construct runs the same functions
 * as Lambda tasks of a Step Functions Distributed Map (infra/job-workflow.ts).
 */
export type JobKind = 'restore' | 'pack' | 'export' | 'verify' | 'backfill' | 'undo';
export const JOB_KINDS: readonly JobKind[] = ['restore', 'pack', 'export', 'verify', 'backfill', 'undo'];

/** What every step of one job run knows: the job, its run id and the backup it works on. */
export interface JobRef {
  job: JobKind;
  /** Names the run's scratch folder `<prefix><table>/_jobs/<jobId>/`. */
  jobId: string;
  table: string;
  bucket: string;
  prefix: string;
}

/** One unit of a map. `params` is the job's own (JSON: it travels through Step Functions). */
export interface JobTask<P = unknown> extends JobRef {
  step: 'prepare' | 'partition';
  /** Stable within the job ('p007', 's003'): the task's result is stored under it. */
  id: string;
  /** 0 for the first run of the unit; a continuation counts up, so its outputs never collide. */
  part: number;
  params: P;
}

/** A plan: the job-wide parameters (also the finish step's input) and its tasks. */
export interface JobPlan<P = unknown, T = unknown> extends JobRef {
  step: 'finish';
  params: P;
  prepare: Array<JobTask<T>>;
  partitions: Array<JobTask<T>>;
}

/** What a task returns to its executor: nothing else travels through the map. */
export type TaskOutcome<T = unknown> = { done: true; id: string } | { done: false; next: JobTask<T> };

/** A new run id: sortable by start time, unique across concurrent runs. */
export function newJobId(job: JobKind, nowMs: number): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${job}-${stamp}-${randomBytes(4).toString('hex')}`;
}

const JOB_ID = /^(restore|pack|export|verify|backfill|undo)-\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** Checks a job id that came from outside (a task event), since it becomes part of S3 keys. */
export function checkJobId(jobId: unknown): string {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
    throw new InputError(
      `Expected "jobId" to be a run id made by the job's plan step (like restore-20261202T101500Z-0a1b2c3d), got ${JSON.stringify(jobId)}`,
    );
  }
  return jobId;
}

/** Task ids `<letter><3 digits>` in order, so stored results list in task order. */
export const taskId = (letter: 'p' | 's', index: number): string =>
  `${letter}${String(index).padStart(4, '0')}`;

/** The continuation of a task that stopped early: same unit, next part, new params. */
export const continueTask = <T>(task: JobTask<T>, params: T): TaskOutcome<T> => ({
  done: false,
  next: { ...task, part: task.part + 1, params },
});

/** A time budget: true once a task should stop starting new work (Lambda's 15 minutes). */
export type Deadline = () => boolean;
export const NO_DEADLINE: Deadline = () => false;

/** Stops when fewer than `marginMs` remain of what `remainingMs` reports (Lambda's context). */
export const deadlineFrom =
  (remainingMs: () => number, marginMs = 120_000): Deadline =>
  () =>
    remainingMs() < marginMs;
