import { clientsFromEnv } from '../../core/aws/clients';
import type { SlimPlan } from '../../core/aws/task-lists';
import { readJsonIfExists } from '../../core/aws/version-store';
import type { JobTask, TaskOutcome } from '../../core/job-model';

type Send = (event: unknown) => Promise<unknown>;

/**
 * Runs a job as its state machine does, one Lambda event at a time: the plan, every prepare
 * task (each continued until done), every partition task, then the finish with the plan. The
 * task lists are read from S3 where the plan put them, as the maps' item readers read them.
 * `send` is the Lambda handler (or a wrapper that injects faults).
 */
export async function runJobSteps<S>(
  send: Send,
  planEvent: Record<string, unknown>,
): Promise<{
  plan: SlimPlan;
  tasks: Record<'prepare' | 'partitions', JobTask[]>;
  summary: S;
  outcomes: TaskOutcome[];
}> {
  const { s3 } = clientsFromEnv();
  const plan = (await send({ ...planEvent, step: 'plan' })) as SlimPlan;
  const outcomes: TaskOutcome[] = [];
  const tasks = { prepare: [] as JobTask[], partitions: [] as JobTask[] };
  for (const step of ['prepare', 'partitions'] as const) {
    const list = plan.taskLists[step];
    tasks[step] = (await readJsonIfExists<JobTask[]>(s3, list.bucket, list.key)) ?? [];
    await Promise.all(
      tasks[step].map(async (first) => {
        let outcome = (await send(first)) as TaskOutcome;
        outcomes.push(outcome);
        while (!outcome.done) {
          outcome = (await send(outcome.next)) as TaskOutcome;
          outcomes.push(outcome);
        }
      }),
    );
  }
  // The finish step is sent the plan, as the maps' outputs pass it on.
  const summary = (await send(JSON.parse(JSON.stringify(plan)))) as S;
  return { plan, tasks, summary, outcomes };
}
