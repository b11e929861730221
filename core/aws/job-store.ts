import {
  DeleteObjectsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InputError } from '../errors';
import type { JobRef, JobTask } from '../job-model';
import { tableRoot } from '../object-key';
import { TaskPool } from '../task-pool';
import { readJsonIfExists } from './version-store';

/**
 * A job run's scratch folder, `<prefix><table>/_jobs/<jobId>/`: task results, spills and
 * checkpoints, so every step of a run (a Lambda each, on AWS) sees what the others wrote.
 * The construct's lifecycle rule expires it; `finish` deletes what it no longer needs.
 */
export const jobRoot = (ref: JobRef): string =>
  `${tableRoot({ bucket: ref.bucket, prefix: ref.prefix, table: ref.table })}_jobs/${ref.jobId}/`;

export async function putJobJson(s3: S3Client, ref: JobRef, name: string, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: ref.bucket,
      Key: `${jobRoot(ref)}${name}`,
      Body: JSON.stringify(value),
      ContentType: 'application/json',
    }),
  );
}

export const getJobJson = <T>(s3: S3Client, ref: JobRef, name: string): Promise<T | undefined> =>
  readJsonIfExists<T>(s3, ref.bucket, `${jobRoot(ref)}${name}`);

/** Stores one task run's result; a retried run overwrites its own, never another's. */
export const saveTaskResult = (s3: S3Client, task: JobTask, result: unknown): Promise<void> =>
  putJobJson(s3, task, `results/${task.step}/${task.id}.${String(task.part).padStart(4, '0')}.json`, result);

/** Every stored result of a step, in task order. */
export async function readTaskResults<R>(s3: S3Client, ref: JobRef, step: JobTask['step']): Promise<R[]> {
  const keys = await listUnder(s3, ref, `results/${step}/`);
  const out: R[] = new Array(keys.length);
  const pool = new TaskPool(16);
  for (const [i, key] of keys.entries()) {
    await pool.submit(async () => {
      out[i] = (await readJsonIfExists<R>(s3, ref.bucket, key)) as R;
    });
  }
  await pool.drain();
  return out;
}

async function listUnder(s3: S3Client, ref: JobRef, under: string): Promise<string[]> {
  const keys: string[] = [];
  const pages = paginateListObjectsV2(
    { client: s3 },
    { Bucket: ref.bucket, Prefix: `${jobRoot(ref)}${under}` },
  );
  for await (const page of pages) for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
  return keys.sort();
}

/** Deletes the run's scratch objects (their old versions go by the lifecycle rule). */
export async function clearJob(s3: S3Client, ref: JobRef, under = ''): Promise<void> {
  const keys = await listUnder(s3, ref, under);
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: ref.bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}

/** The run's plan.json, which every task and the finish read instead of carrying it. */
export async function readPlanParams<P>(s3: S3Client, ref: JobRef): Promise<P> {
  const params = await getJobJson<P>(s3, ref, 'plan.json');
  if (!params)
    throw new InputError(
      `The ${ref.job} job ${ref.jobId} has no plan.json: start the job again from its plan step`,
    );
  return params;
}
