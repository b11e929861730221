import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { dynamodbClient } from '../../core/aws/clients';
import type { PackSummary } from '../../core/aws/jobs/pack-job';
import { type RestoreJobSummary, restoreJob } from '../../core/aws/jobs/restore-job';
import { runJob } from '../../core/aws/run-job';
import { runStream } from '../../core/aws/stream-runner';
import { streamHandler, writeStreamBatch } from '../../core/aws/stream-writer';
import { wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { backupLocation } from '../../core/object-key';
import { handler as jobsHandler } from '../../functions/jobs/handler';
import { runCli, userEnv } from '../support/cli';
import { createTable, EventBuilder } from '../support/fixtures';
import { runJobSteps } from '../support/job-steps';
import { randomName } from '../support/local-env';
import { PK_ONLY, scratchBackup } from '../support/scratch';
import { tableState } from '../support/table-state';

const { s3, dynamodb, streams, bucket, table, loc, track } = scratchBackup('doors');
const env = userEnv();
const startS = Math.floor(Date.now() / 1000) - 900;

beforeAll(async () => {
  const events = new EventBuilder(table);
  const records = [];
  for (let i = 0; i < 200; i++)
    records.push(
      events.record('INSERT', { pk: { S: `k${i}` } }, startS, { pk: { S: `k${i}` }, v: { N: '1' } }),
    );
  for (let i = 0; i < 50; i++)
    records.push(
      events.record('MODIFY', { pk: { S: `k${i}` } }, startS + 60, { pk: { S: `k${i}` }, v: { N: '2' } }),
    );
  await writeStreamBatch(
    { s3, dynamodb, log: silentLog },
    { bucket, concurrency: 16 },
    events.event(records),
  );
});

describe('the restore job through its Lambda handler, step by step as the state machine runs it', () => {
  it('plans partitions, creates the target once, and the partitions together restore the table', async () => {
    const target = track(randomName('doors-target'));
    const at = new Date((startS + 30) * 1000).toISOString();
    const planEvent = {
      job: 'restore',
      table,
      bucket,
      at,
      targetTable: target,
      createTable: true,
      partitions: 4,
    };
    const { plan, tasks, summary } = await runJobSteps<RestoreJobSummary>(jobsHandler, planEvent);
    // The state carries no task lists: they lie in S3 for the maps' item readers.
    expect(plan.partitions).toEqual([]);
    expect(plan.taskLists.partitions).toMatchObject({ bucket, count: 4 });
    expect(plan.taskLists.partitions.key).toBe(`${table}/_jobs/${plan.jobId}/tasks/partitions.json`);
    expect(tasks.partitions).toHaveLength(4);
    // Created by the plan: nothing reads the target, so there is nothing to prepare.
    expect(tasks.prepare).toHaveLength(0);
    expect(tasks.partitions.every((p) => p.step === 'partition' && p.jobId === plan.jobId)).toBe(true);
    expect(summary).toMatchObject({ itemsPut: 200, partitions: 4, targetItemsRead: 0 });
    const state = await tableState(dynamodb, target, loc, ['pk']);
    expect(state.size).toBe(200);
    expect([...state.values()].every((json) => json.includes('"v":{"N":"1"}'))).toBe(true);
  });

  it('into an existing table reads the target once in all, not once per partition', async () => {
    const target = track(randomName('doors-existing'));
    await createTable(dynamodb, target, PK_ONLY);
    // 200 items the backup knows (all stale), 100 it never saw: rewind puts back 200, drops 100.
    for (let i = 0; i < 300; i++) {
      const pk = i < 200 ? `k${i}` : `x${i}`;
      await dynamodb.send(
        new PutItemCommand({ TableName: target, Item: wireItemToSdk({ pk: { S: pk }, v: { N: '7' } }) }),
      );
    }
    let scanned = 0;
    const counting = dynamodbClient();
    counting.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        scanned += (out.output as { ScannedCount?: number } | undefined)?.ScannedCount ?? 0;
        return out;
      },
      { step: 'initialize', name: 'countScanned' },
    );
    const at = (startS + 90) * 1000;
    const summary = await runJob(
      { s3, dynamodb: counting, log: silentLog },
      restoreJob,
      { source: loc, atMs: at, targetTable: target, mode: 'rewind', partitions: 16 },
      { concurrency: 4 },
    );
    expect(scanned).toBe(300);
    expect(summary).toMatchObject({ targetItemsRead: 300, itemsPut: 200, itemsDeleted: 100, partitions: 16 });
    const state = await tableState(dynamodb, target, loc, ['pk']);
    expect(state.size).toBe(200);
    const twos = [...state.values()].filter((json) => json.includes('"v":{"N":"2"}'));
    expect(twos).toHaveLength(50);
  });

  it('a partition run twice, and a partition stopped by its deadline and continued, end in the same table', async () => {
    const target = track(randomName('doors-rerun'));
    await createTable(dynamodb, target, PK_ONLY);
    const ctx = { s3, dynamodb, log: silentLog };
    const at = (startS + 90) * 1000;
    const plan = await restoreJob.plan(ctx, {
      source: loc,
      atMs: at,
      targetTable: target,
      mode: 'rewind',
      partitions: 2,
    });
    for (const task of plan.prepare)
      expect(await restoreJob.prepare?.(ctx, task)).toEqual({ done: true, id: task.id });
    const [first, second] = plan.partitions as [(typeof plan.partitions)[0], (typeof plan.partitions)[0]];
    expect(await restoreJob.partition(ctx, first)).toEqual({ done: true, id: first.id });
    expect(await restoreJob.partition(ctx, first)).toEqual({ done: true, id: first.id });
    // The deadline passes after 3 prefixes have started: the rest is a continuation.
    let checks = 0;
    let outcome = await restoreJob.partition({ ...ctx, deadline: () => ++checks > 3 }, second);
    expect(outcome.done).toBe(false);
    // Finishing with the continuation not run is refused: no summary claims prefixes nobody restored.
    await expect(restoreJob.finish(ctx, plan)).rejects.toThrow(
      /^The restore job restore-\S+ cannot finish: no partition task stored a result for hash prefixes /,
    );
    let parts = 1;
    while (!outcome.done) {
      expect(outcome.next.part).toBe(parts);
      outcome = await restoreJob.partition(ctx, outcome.next);
      parts++;
    }
    const summary = await restoreJob.finish(ctx, plan);
    // First partition twice (its result stored once, overwritten), second in two parts.
    expect(summary.itemsPut + summary.itemsUnchanged).toBe(200);
    const state = await tableState(dynamodb, target, loc, ['pk']);
    expect(state.size).toBe(200);
    expect([...state.values()].filter((json) => json.includes('"v":{"N":"2"}'))).toHaveLength(50);
  });

  it("packs the backup through the pack job's steps; the partition restores then read the pack", async () => {
    const packed = await runJobSteps<PackSummary>(jobsHandler, { job: 'pack', table, bucket, partitions: 2 });
    expect(packed.summary).toMatchObject({ items: 200, partitions: 2 });
    const target = track(randomName('doors-packed'));
    const { summary } = await runJobSteps<RestoreJobSummary>(jobsHandler, {
      job: 'restore',
      table,
      bucket,
      targetTable: target,
      createTable: true,
      partitions: 2,
    });
    expect(summary).toMatchObject({ pack: packed.summary.packId, itemsFromPack: 200, itemsPut: 200 });
    expect((await tableState(dynamodb, target, loc, ['pk'])).size).toBe(200);
  });

  it('refuses an event without a job, or a task with a made-up run id, in one line', async () => {
    await expect(jobsHandler({ table, bucket })).rejects.toThrow(
      /^Expected "job" to be one of restore, pack, export, verify, backfill, undo, got undefined$/,
    );
    await expect(
      jobsHandler({
        job: 'restore',
        step: 'partition',
        jobId: '../../x',
        table,
        bucket,
        id: 'p0000',
        part: 0,
      }),
    ).rejects.toThrow(/Expected "jobId" to be a run id made by the job's plan step/);
  });
});

describe('restoring over the source table', () => {
  it('without --yes shows the plan and writes nothing when no one can confirm; with --yes it undoes', async () => {
    await dynamodb.send(
      new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: 'k1' }, v: { N: '99' } }) }),
    );
    const before = await tableState(dynamodb, table, loc, ['pk']);
    const at = new Date((startS + 90) * 1000).toISOString();
    const args = [
      'restore',
      '--table',
      table,
      '--bucket',
      bucket,
      '--at',
      at,
      '--target-table',
      table,
      '--in-place',
      '--keys',
      '{"pk":"k1"}',
    ];
    const refused = await runCli(args, env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/plan for .* nothing written\)\n {2}put 1, deleted 0, unchanged 0/);
    expect(refused.stderr).toMatch(
      /ddb-rewind: Restoring over the source table: check the plan above, then run again with --yes\n$/,
    );
    expect(await tableState(dynamodb, table, loc, ['pk'])).toEqual(before);
    const done = await runCli([...args, '--yes'], env);
    expect(done.code).toBe(0);
    const after = await tableState(dynamodb, table, loc, ['pk']);
    expect([...after.values()].find((j) => j.includes('"S":"k1"'))).toContain('"v":{"N":"2"}');
  });
});

describe('the local runner retries a partly failed batch from the lowest failed record', () => {
  it('writes every change exactly once in order after an injected failure', async () => {
    const live = randomName('doors-live');
    track(live);
    await createTable(dynamodb, live, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }] });
    for (let i = 0; i < 10; i++)
      await dynamodb.send(
        new PutItemCommand({
          TableName: live,
          Item: wireItemToSdk({ pk: { S: 'one' }, v: { N: String(i) } }),
        }),
      );
    let failedOnce = false;
    const real = streamHandler(
      {
        s3,
        dynamodb,
        log: silentLog,
        beforeWrite: (change) => {
          if (!failedOnce && change.body.includes('"N":"4"')) {
            failedOnce = true;
            throw new Error('injected');
          }
        },
      },
      { bucket, concurrency: 4 },
    );
    const calls: number[] = [];
    const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
      calls.push(event.Records.length);
      return real(event);
    };
    const summary = await runStream(
      { dynamodb, streams, log: silentLog, handler },
      {
        table: live,
        drain: true,
        checkpointFile: join(mkdtempSync(join(tmpdir(), 'rw-doors-')), 'cp.json'),
        pollIntervalMs: 50,
      },
    );
    expect(failedOnce).toBe(true);
    expect(summary.retries).toBe(1);
    expect(calls).toEqual([10, 6]);
    const { versionsOf } = await import('../support/backup-reader');
    const { objectKeyFor } = await import('../../core/object-key');
    const versions = await versionsOf(
      s3,
      bucket,
      objectKeyFor(backupLocation(bucket, live), { pk: { S: 'one' } }),
    );
    expect(versions.map((v) => JSON.parse(v.body ?? '{}').v.N)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
  });
});
