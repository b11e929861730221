import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, PutItemCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { BatchWriter } from '../../core/aws/batch-writer';
import { clientsFromEnv } from '../../core/aws/clients';
import { restore } from '../../core/aws/restore';
import { runStream } from '../../core/aws/stream-runner';
import { streamHandler } from '../../core/aws/stream-writer';
import { verify } from '../../core/aws/verify';
import { listVersionsOfKey } from '../../core/aws/version-store';
import { wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { backupLocation, objectKeyFor } from '../../core/object-key';
import { runCli } from '../support/cli';
import { createTable, createVersionedBucket, deleteBucket, dropTable } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { tableState } from '../support/table-state';
import { seeded } from '../support/workload';

const { s3, dynamodb, streams } = clientsFromEnv();
const bucket = randomName('backfill');
const table = randomName('backfill');
const loc = backupLocation(bucket, table);
const dir = mkdtempSync(join(tmpdir(), 'rw-backfill-'));
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const tables = [table];
const ITEMS = 2500;

beforeAll(async () => {
  await createVersionedBucket(s3, bucket);
  // The items exist before the stream does: only a backfill can back them up.
  await createTable(dynamodb, table, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }], stream: false });
  const writer = new BatchWriter(dynamodb, { table, concurrency: 8, counter: { dynamodb: 0 } });
  for (let i = 0; i < ITEMS; i++)
    await writer.add({
      PutRequest: {
        Item: wireItemToSdk({ pk: { S: `item-${i}` }, v: { N: '0' }, pad: { S: 'x'.repeat(200) } }),
      },
    });
  await writer.flush();
  await dynamodb.send(
    new UpdateTableCommand({
      TableName: table,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
});
afterAll(async () => {
  for (const t of tables) await dropTable(dynamodb, t);
  await deleteBucket(s3, bucket);
});

const drainStream = () =>
  runStream(
    {
      dynamodb,
      streams,
      log: silentLog,
      handler: streamHandler({ s3, dynamodb, log: silentLog }, { bucket, concurrency: 16 }),
    },
    { table, drain: true, checkpointFile: join(dir, 'stream.json'), pollIntervalMs: 50 },
  );

describe('backfill and verify', () => {
  it('backs up existing items while the stream writer backs up live changes, interrupted and resumed, and ends in sync', async () => {
    // Live changes run all through the backfill; the stream runner follows them.
    const controller = new AbortController();
    const runner = runStream(
      {
        dynamodb,
        streams,
        log: silentLog,
        handler: streamHandler({ s3, dynamodb, log: silentLog }, { bucket, concurrency: 16 }),
      },
      {
        table,
        drain: false,
        checkpointFile: join(dir, 'stream.json'),
        pollIntervalMs: 50,
        signal: controller.signal,
      },
    );
    let writing = true;
    const rand = seeded(7);
    const changes = (async () => {
      let n = 0;
      while (writing) {
        const key = { pk: { S: `item-${Math.floor(rand() * ITEMS)}` } };
        if (rand() < 0.2)
          await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: wireItemToSdk(key) }));
        else
          await dynamodb.send(
            new PutItemCommand({ TableName: table, Item: wireItemToSdk({ ...key, v: { N: String(++n) } }) }),
          );
      }
    })();

    const args = [
      'backfill',
      '--table',
      table,
      '--bucket',
      bucket,
      '--segments',
      '4',
      '--checkpoint-dir',
      join(dir, 'cp'),
      '--time-precision-ms',
      '60000',
      '--json',
    ];
    const first = spawn(process.execPath, [join(__dirname, '..', '..', 'bin', 'ddb-rewind.js'), ...args], {
      env,
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 2500));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const resumed = await runCli([...args, '--resume'], env);
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.segments).toBe(4);

    writing = false;
    await changes;
    controller.abort();
    await runner;
    await drainStream();

    const report = await verify({ s3, dynamodb }, { source: loc, settleMs: 500 });
    expect(report.drift).toEqual([]);
    expect(report.checkedItems).toBeGreaterThanOrEqual(ITEMS - 600);

    await new Promise((r) => setTimeout(r, 2200));
    const target = `${table}-now`;
    tables.push(target);
    await restore(
      { s3, dynamodb, log: silentLog },
      { source: loc, atMs: Date.now(), targetTable: target, mode: 'upsert', createTable: true },
    );
    expect(await tableState(dynamodb, target, loc, ['pk'])).toEqual(
      await tableState(dynamodb, table, loc, ['pk']),
    );
  });

  it('reports an item deleted from the bucket by hand and an item changed without the stream running', async () => {
    const gone = objectKeyFor(loc, { pk: { S: 'item-1' } });
    await dynamodb.send(
      new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: 'item-1' }, v: { N: '-1' } }) }),
    );
    await drainStream();
    const versions = await listVersionsOfKey(s3, bucket, gone);
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: versions.map((v) => ({ Key: gone, VersionId: v.versionId })) },
      }),
    );
    await dynamodb.send(
      new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: 'item-2' }, v: { N: '-2' } }) }),
    );

    const out = await runCli(
      ['verify', '--table', table, '--bucket', bucket, '--settle-ms', '300', '--json'],
      env,
    );
    expect(out.code).toBe(1);
    const report = JSON.parse(out.stdout);
    expect(report.inSync).toBe(false);
    expect(report.drift).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'missing-from-backup', objectKey: gone }),
        expect.objectContaining({ kind: 'differs', objectKey: objectKeyFor(loc, { pk: { S: 'item-2' } }) }),
      ]),
    );
    expect(JSON.stringify(report)).not.toContain('"N":"-2"');
    await drainStream();
  });
});
