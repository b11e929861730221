import type { S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../errors';
import type { JobPlan, JobTask } from '../job-model';
import { getJobJson, jobRoot, putJobJson } from './job-store';

/** Where a step's task list lies: a JSON array of JobTask, read by a map's S3 item reader. */
export interface TaskList {
  bucket: string;
  key: string;
  count: number;
}

/** A plan whose task lists travel through S3, so the state stays small however many tasks. */
export type SlimPlan = JobPlan & { taskLists: { prepare: TaskList; partitions: TaskList } };

const STEPS = ['prepare', 'partitions'] as const;

/** Writes the plan's task lists to the run's folder and returns the plan without them. */
export async function storeTaskLists(s3: S3Client, plan: JobPlan): Promise<SlimPlan> {
  const lists = {} as SlimPlan['taskLists'];
  for (const step of STEPS) {
    const name = `tasks/${step}.json`;
    await putJobJson(s3, plan, name, plan[step]);
    lists[step] = { bucket: plan.bucket, key: `${jobRoot(plan)}${name}`, count: plan[step].length };
  }
  return { ...plan, prepare: [], partitions: [], taskLists: lists };
}

/** The plan with its task lists read back (the finish step needs them); a full plan as is. */
export async function loadTaskLists(s3: S3Client, plan: JobPlan | SlimPlan): Promise<JobPlan> {
  if (!('taskLists' in plan) || !plan.taskLists) return plan;
  const full: JobPlan = { ...plan };
  for (const step of STEPS) {
    const tasks = await getJobJson<JobTask[]>(s3, plan, `tasks/${step}.json`);
    if (!tasks || tasks.length !== plan.taskLists[step].count) {
      throw new InputError(
        `The ${step} task list of job ${plan.jobId} is missing or changed: start the job again from its plan step`,
      );
    }
    full[step] = tasks;
  }
  return full;
}
