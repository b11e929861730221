import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { PackSummary } from '../../core/aws/pack-writer';
import type { RestoreSummary } from '../../core/aws/restore';
import { runStream } from '../../core/aws/stream-runner';
import { streamHandler, writeStreamBatch } from '../../core/aws/stream-writer';
import { wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { backupLocation } from '../../core/object-key';
import type { RestoreEvent } from '../../core/restore-event';
import { handler as restoreHandler } from '../../functions/restore/handler';
import { runCli, userEnv } from '../support/cli';
import { createTable, EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { scratchBackup } from '../support/scratch';
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

describe('the restore Lambda handler', () => {
  it('plans partitions, creates the target once, and the partitions together restore the table', async () => {
    const target = randomName('doors-target');
    track(target);
    const at = new Date((startS + 30) * 1000).toISOString();
    const plan = (await restoreHandler({
      action: 'plan',
      table,
      bucket,
      at,
      targetTable: target,
      createTable: true,
      partitions: 4,
    })) as {
      at: number;
      partitions: RestoreEvent[];
    };
    expect(plan.partitions).toHaveLength(4);
    expect(plan.partitions.every((p) => p.action === 'restore' && !p.createTable && p.at === plan.at)).toBe(
      true,
    );
    const summaries = (await Promise.all(plan.partitions.map((p) => restoreHandler(p)))) as RestoreSummary[];
    expect(summaries.reduce((n, s) => n + s.itemsPut, 0)).toBe(200);
    const state = await tableState(dynamodb, target, loc, ['pk']);
    expect(state.size).toBe(200);
    expect([...state.values()].every((json) => json.includes('"v":{"N":"1"}'))).toBe(true);
  });

  it("packs the backup on the schedule's event; the partition restores then read the pack", async () => {
    const packed = (await restoreHandler({ action: 'pack', table, bucket })) as PackSummary;
    expect(packed.items).toBe(200);
    const target = track(randomName('doors-packed'));
    const plan = (await restoreHandler({
      action: 'plan',
      table,
      bucket,
      targetTable: target,
      createTable: true,
      partitions: 2,
    })) as { partitions: RestoreEvent[] };
    const summaries = (await Promise.all(plan.partitions.map((p) => restoreHandler(p)))) as RestoreSummary[];
    expect(summaries.map((s) => s.pack)).toEqual([packed.packId, packed.packId]);
    expect(summaries.reduce((n, s) => n + s.itemsFromPack, 0)).toBe(200);
    expect((await tableState(dynamodb, target, loc, ['pk'])).size).toBe(200);
  });

  it('refuses an event without an action or target in one line', async () => {
    await expect(restoreHandler({ table, bucket } as unknown as RestoreEvent)).rejects.toThrow(
      /Expected "action" to be "plan", "restore" or "pack"/,
    );
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
