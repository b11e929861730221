import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { BatchWriter } from '../../core/aws/batch-writer';
import { lastBackfillStart } from '../../core/aws/gap-store';
import { getJobJson } from '../../core/aws/job-store';
import {
  type BackfillJobContext,
  type BackfillParams,
  type BackfillTask,
  backfillJob,
} from '../../core/aws/jobs/backfill-job';
import { runJob } from '../../core/aws/run-job';
import { verify } from '../../core/aws/verify';
import { listKeyVersions, readVersion } from '../../core/aws/version-store';
import { canonicalItemJson, type WireItem, wireItemToSdk } from '../../core/ddb-json';
import type { JobPlan, JobTask } from '../../core/job-model';
import { silentLog } from '../../core/log';
import { type BackupLocation, backupLocation, itemsRoot } from '../../core/object-key';
import { PK_ONLY, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';

// The backfill job's steps called one by one, as the Step Functions map calls them (plan, each
// segment task and its continuations, finish), on the real servers. The table holds ITEMS items
// and gets no stream: each run backs it up under its own prefix, so every backfill version in a
// prefix was written by that run and can be counted.
const { s3, dynamodb, bucket, table } = scratchBackup('bfjob', { ...PK_ONLY, stream: false });
const ITEMS = 800;
const ctx: BackfillJobContext = { s3, dynamodb, log: silentLog };
const at = (prefix: string): BackupLocation => backupLocation(bucket, table, prefix);

beforeAll(async () => {
  const writer = new BatchWriter(dynamodb, { table, concurrency: 8 });
  for (let i = 0; i < ITEMS; i++) {
    const item: WireItem = { pk: { S: `item-${i}` }, v: { N: String(i) }, pad: { S: 'x'.repeat(100) } };
    await writer.add({ PutRequest: { Item: wireItemToSdk(item) } });
  }
  await writer.flush();
});

type Plan = JobPlan<BackfillParams, BackfillTask>;
type Task = JobTask<BackfillTask>;

/** Runs a segment task and every continuation it returns; the parts it took. */
async function runToEnd(task: Task, c: BackfillJobContext = ctx): Promise<Task[]> {
  const parts = [task];
  let outcome = await backfillJob.partition(c, task);
  while (!outcome.done) {
    parts.push(outcome.next);
    outcome = await backfillJob.partition(c, outcome.next);
  }
  expect(outcome).toEqual({ done: true, id: task.id });
  return parts;
}

/** The backup under a prefix: each key's newest image, and how many versions each key has. */
async function backupOf(loc: BackupLocation) {
  const latest = new Map<string, string>();
  const versions = new Map<string, number>();
  const reads: Array<Promise<void>> = [];
  // The newest versions are read 16 at a time, not one after another (800 reads a call).
  const limit = pLimit(16);
  for await (const { objectKey, versions: listed } of listKeyVersions(s3, bucket, itemsRoot(loc))) {
    versions.set(objectKey, listed.length);
    const newest = listed[0];
    if (!newest || newest.isDeleteMarker) continue;
    reads.push(
      limit(async () => {
        const { body, meta } = await readVersion(s3, bucket, objectKey, newest.versionId);
        expect(meta?.event).toBe('BACKFILL');
        latest.set(objectKey, canonicalItemJson(JSON.parse(body as string) as WireItem));
      }),
    );
  }
  await Promise.all(reads);
  return { latest, versions };
}

/** Keys by their number of versions: {1: 800} when every item was written once. */
const versionCounts = (versions: Map<string, number>) => {
  const out: Record<number, number> = {};
  for (const n of versions.values()) out[n] = (out[n] ?? 0) + 1;
  return out;
};

const expectBackupEqualsTable = async (loc: BackupLocation) => {
  const backup = await backupOf(loc);
  expect(backup.latest).toEqual(await tableState(dynamodb, table, loc, ['pk']));
  return backup;
};

describe('the backfill job, step by step', () => {
  it('plan, each segment task, finish: the backup equals the table, each item written once', async () => {
    const loc = at('steps/');
    const plan: Plan = await backfillJob.plan(ctx, { source: loc, segments: 4, timePrecisionMs: 60_000 });
    expect(plan.partitions.map((t) => [t.id, t.part, t.params])).toEqual([
      ['s0000', 0, { segment: 0 }],
      ['s0001', 0, { segment: 1 }],
      ['s0002', 0, { segment: 2 }],
      ['s0003', 0, { segment: 3 }],
    ]);
    // The tasks carry no more than which segment: a map of thousands stays small.
    expect(JSON.stringify(plan.partitions[0]).length).toBeLessThan(300);
    for (const task of plan.partitions) expect(await runToEnd(task)).toHaveLength(1);
    const summary = await backfillJob.finish(ctx, plan);
    expect(summary).toMatchObject({
      jobId: plan.jobId,
      items: ITEMS,
      segments: 4,
      repaired: 0,
      resumedSegments: 0,
    });

    const backup = await expectBackupEqualsTable(loc);
    expect(versionCounts(backup.versions)).toEqual({ 1: ITEMS });
    expect(await lastBackfillStart(s3, loc)).toBe(plan.params.startedAtMs);
    const report = await verify({ s3, dynamodb }, { source: loc, settleMs: 100 });
    expect({ drift: report.drift, checked: report.checkedItems }).toEqual({ drift: [], checked: ITEMS });
  });

  it('a segment stopped by its deadline carries on in continuations to the same backup, no item written twice', async () => {
    const loc = at('deadline/');
    const plan: Plan = await backfillJob.plan(ctx, { source: loc, segments: 2, timePrecisionMs: 60_000 });
    // The task asks for the deadline only after a page: true from the start stops it after each one.
    const late: BackfillJobContext = { ...ctx, deadline: () => true };
    const first = await backfillJob.partition(late, plan.partitions[0] as Task);
    expect(first).toEqual({ done: false, next: { ...plan.partitions[0], part: 1, params: { segment: 0 } } });
    const stored = await getJobJson<{ items: number; lastKey?: unknown }>(s3, plan, 'checkpoints/s0000.json');
    expect(stored?.items).toBe(100);
    expect(stored?.lastKey).toBeDefined();

    if (first.done) throw new Error('unreachable');
    const parts = [plan.partitions[0], ...(await runToEnd(first.next, late))];
    const others = await runToEnd(plan.partitions[1] as Task, late);
    // About 400 items a segment, 100 a page: each segment took several parts.
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(others.length).toBeGreaterThanOrEqual(3);
    expect(parts.map((t) => t?.part)).toEqual(parts.map((_, i) => i));

    const summary = await backfillJob.finish(ctx, plan);
    expect(summary).toMatchObject({ items: ITEMS, segments: 2, resumedSegments: 0 });
    const backup = await expectBackupEqualsTable(loc);
    expect(versionCounts(backup.versions)).toEqual({ 1: ITEMS });
  });

  it('a segment task killed mid-page and run again, then once more after it finished, leaves the same result', async () => {
    const loc = at('retry/');
    const plan: Plan = await backfillJob.plan(ctx, { source: loc, segments: 4, timePrecisionMs: 60_000 });
    const task = plan.partitions[0] as Task;
    // Killed at its 150th item write: the first page is stored, the second half written.
    const killed = await backfillJob
      .partition({ ...ctx, s3: failingItemPuts(s3, 150) }, task)
      .catch((e) => e);
    expect(String(killed)).toContain('killed');
    expect((await getJobJson<{ items: number }>(s3, plan, 'checkpoints/s0000.json'))?.items).toBe(100);

    await runToEnd(task);
    const resultKey = 'results/partition/s0000.0000.json';
    const result = await getJobJson(s3, plan, resultKey);
    const before = versionCounts((await backupOf(loc)).versions);
    await runToEnd(task);
    expect(await getJobJson(s3, plan, resultKey)).toEqual(result);
    // The second run of the finished segment wrote nothing.
    expect(versionCounts((await backupOf(loc)).versions)).toEqual(before);

    for (const t of plan.partitions.slice(1)) await runToEnd(t);
    expect(await backfillJob.finish(ctx, plan)).toMatchObject({ items: ITEMS, segments: 4 });
    const backup = await expectBackupEqualsTable(loc);
    // Only the page in flight when killed was written again: at least the 49 writes before
    // the kill, at most its 100 items.
    const twice = versionCounts(backup.versions)[2] ?? 0;
    expect(twice).toBeGreaterThanOrEqual(49);
    expect(twice).toBeLessThanOrEqual(100);
    expect(versionCounts(backup.versions)).toEqual({ 1: ITEMS - twice, 2: twice });
  });

  it('a resumed run reuses its id, start and finished segments; a wrong resume is refused in one line', async () => {
    const loc = at('resume/');
    const plan: Plan = await backfillJob.plan(ctx, { source: loc, segments: 4, timePrecisionMs: 60_000 });
    for (const t of plan.partitions.slice(0, 2)) await runToEnd(t);

    const request = { source: loc, segments: 4, timePrecisionMs: 60_000, resumeJobId: plan.jobId };
    await expect(backfillJob.plan(ctx, { ...request, segments: 8 })).rejects.toThrow(
      `Backfill run ${plan.jobId} scans 4 segments: resume it with 4 segments, or start a new backfill`,
    );
    const unknown = plan.jobId.replace(/-[0-9a-f]{8}$/, '-00000000');
    await expect(backfillJob.plan(ctx, { ...request, resumeJobId: unknown })).rejects.toThrow(
      `No backfill run ${unknown} of table ${table}`,
    );

    const summary = await runJob(ctx, backfillJob, request, { concurrency: 4 });
    expect(summary).toMatchObject({ jobId: plan.jobId, items: ITEMS, segments: 4, resumedSegments: 2 });
    expect(await lastBackfillStart(s3, loc)).toBe(plan.params.startedAtMs);
    const backup = await expectBackupEqualsTable(loc);
    expect(versionCounts(backup.versions)).toEqual({ 1: ITEMS });
  });

  it('shares --max-rcu: each of 4 segments is paced at a quarter of it', async () => {
    const loc = at('rate/');
    const plan: Plan = await backfillJob.plan(ctx, { source: loc, segments: 4, maxRcu: 100 });
    expect(plan.params.segmentRcu).toBe(25);
    expect(await getJobJson<BackfillParams>(s3, plan, 'plan.json')).toMatchObject({ segmentRcu: 25 });
    await expect(backfillJob.plan(ctx, { source: loc, readPercent: 10 })).rejects.toThrow(
      `Table ${table} is on-demand, so --read-percent has no capacity to take a share of: use --max-rcu`,
    );
  });
});

/** An S3 client whose item writes fail from the `after`-th on: a task killed mid-page. */
function failingItemPuts(client: S3Client, after: number): S3Client {
  let puts = 0;
  const send = async (command: unknown) => {
    const key = command instanceof PutObjectCommand ? (command.input.Key ?? '') : '';
    if (key.includes('/v1/') && ++puts >= after) throw new Error('killed');
    return (client.send as (c: unknown) => Promise<unknown>)(command);
  };
  return new Proxy(client, { get: (target, prop) => (prop === 'send' ? send : Reflect.get(target, prop)) });
}
