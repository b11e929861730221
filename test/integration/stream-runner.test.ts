import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { clientsFromEnv } from '../../core/aws/clients';
import { runStream } from '../../core/aws/stream-runner';
import { streamHandler } from '../../core/aws/stream-writer';
import { type SdkItem, sdkItemToWire, wireItemToSdk } from '../../core/ddb-json';
import { silentLog } from '../../core/log';
import { backupLocation, objectKeyFor } from '../../core/object-key';
import { versionsOf } from '../support/backup-reader';
import { runCli } from '../support/cli';
import { createTable, createVersionedBucket, deleteBucket, dropTable } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { tableState } from '../support/table-state';

const { s3, dynamodb, streams } = clientsFromEnv();
const bucket = randomName('runner');
const tables: string[] = [];
const checkpoints = mkdtempSync(join(tmpdir(), 'rw-checkpoints-'));

async function newTable(keys: Parameters<typeof createTable>[2]['keys']): Promise<string> {
  const table = randomName('runner');
  tables.push(table);
  await createTable(dynamodb, table, { keys });
  return table;
}

function drain(table: string) {
  const handler = streamHandler({ s3, dynamodb, log: silentLog }, { bucket, concurrency: 16 });
  return runStream(
    { dynamodb, streams, log: silentLog, handler },
    { table, drain: true, checkpointFile: join(checkpoints, `${table}.json`), pollIntervalMs: 100 },
  );
}

const put = (table: string, item: Record<string, unknown>) =>
  dynamodb.send(new PutItemCommand({ TableName: table, Item: wireItemToSdk(item as never) }));

beforeAll(() => createVersionedBucket(s3, bucket));
afterAll(async () => {
  for (const t of tables) await dropTable(dynamodb, t);
  await deleteBucket(s3, bucket);
});

describe('local stream runner against DynamoDB Local', () => {
  it('backs up keys with unicode, slashes, spaces, maximum lengths and binary, exactly as stored', async () => {
    const table = await newTable([
      { name: 'pk', type: 'S', role: 'HASH' },
      { name: 'sk', type: 'S', role: 'RANGE' },
    ]);
    const items = [
      { pk: { S: 'Zürich/東京 😀' }, sk: { S: 'a b/c' }, n: { N: '12345678901234567890123456789012345678' } },
      {
        pk: { S: 'p'.repeat(2048) },
        sk: { S: 's'.repeat(1024) },
        bin: { B: Buffer.from([0, 255]).toString('base64') },
      },
      { pk: { S: '%2F..%' }, sk: { S: '~' }, set: { SS: ['x', 'y'] }, nil: { NULL: true } },
    ];
    for (const item of items) await put(table, item);
    const summary = await drain(table);
    expect(summary.records).toBe(3);
    const loc = backupLocation(bucket, table);
    for (const item of items) {
      const key = { pk: item.pk, sk: item.sk };
      const stored = await dynamodb.send(new GetItemCommand({ TableName: table, Key: wireItemToSdk(key) }));
      const [version] = await versionsOf(s3, bucket, objectKeyFor(loc, key));
      expect(JSON.parse(version?.body ?? '')).toEqual(sdkItemToWire(stored.Item as SdkItem));
      expect(Buffer.byteLength(objectKeyFor(loc, key))).toBeLessThanOrEqual(1024);
    }
  });

  it('backs up binary partition keys', async () => {
    const table = await newTable([{ name: 'id', type: 'B', role: 'HASH' }]);
    const item = { id: { B: Buffer.from([1, 2, 3, 250]).toString('base64') }, v: { N: '1' } };
    await put(table, item);
    await drain(table);
    const [version] = await versionsOf(
      s3,
      bucket,
      objectKeyFor(backupLocation(bucket, table), { id: item.id }),
    );
    expect(JSON.parse(version?.body ?? '')).toEqual(item);
  });

  it('resumes from its checkpoint: a second drain handles only new records', async () => {
    const table = await newTable([{ name: 'pk', type: 'S', role: 'HASH' }]);
    for (let i = 0; i < 30; i++) await put(table, { pk: { S: `k${i}` }, v: { N: '1' } });
    expect((await drain(table)).records).toBe(30);
    for (let i = 0; i < 5; i++) await put(table, { pk: { S: `k${i}` }, v: { N: '2' } });
    expect((await drain(table)).records).toBe(5);
    const versions = await versionsOf(
      s3,
      bucket,
      objectKeyFor(backupLocation(bucket, table), { pk: { S: 'k0' } }),
    );
    expect(versions).toHaveLength(2);
  });

  it('with a batching window gathers a trickle of changes into a few batches; refuses a bad --batch-window-ms', async () => {
    const table = await newTable([{ name: 'pk', type: 'S', role: 'HASH' }]);
    const handler = streamHandler({ s3, dynamodb, log: silentLog }, { bucket, concurrency: 16 });
    const checkpointFile = join(checkpoints, `${table}.json`);
    const WINDOW = 600;
    const controller = new AbortController();
    const following = runStream(
      { dynamodb, streams, log: silentLog, handler },
      {
        table,
        drain: false,
        checkpointFile,
        pollIntervalMs: 50,
        batchWindowMs: WINDOW,
        signal: controller.signal,
      },
    );
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      await put(table, { pk: { S: `w${i}` }, v: { N: '1' } });
      await pause(50);
    }
    const writing = Date.now() - started;
    await pause(1500);
    controller.abort();
    const first = await following;
    const rest = await runStream(
      { dynamodb, streams, log: silentLog, handler },
      { table, drain: true, checkpointFile, pollIntervalMs: 50 },
    );
    expect(first.records + rest.records).toBe(20);
    // After a partial batch the runner waits a window: at most one batch per window while the
    // writes go on, and one more at each end (a slower runner only makes fewer).
    expect(first.batches).toBeLessThanOrEqual(Math.ceil(writing / WINDOW) + 2);
    expect(first.batches).toBeLessThan(first.records);

    const bad = await runCli([
      'stream',
      '--table',
      table,
      '--bucket',
      bucket,
      '--drain',
      '--batch-window-ms',
      'soon',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(
      /Expected `--batch-window-ms` to be a whole number from 0 to 300000, got `soon`/,
    );
  });

  it('marks a real TTL expiry as a TTL delete', async () => {
    const table = await newTable([{ name: 'pk', type: 'S', role: 'HASH' }]);
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' },
      }),
    );
    await put(table, { pk: { S: 'session' }, expiresAt: { N: String(Math.floor(Date.now() / 1000) - 60) } });
    await put(table, { pk: { S: 'user-deleted' } });
    await dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: wireItemToSdk({ pk: { S: 'user-deleted' } }) }),
    );
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const got = await dynamodb.send(
        new GetItemCommand({ TableName: table, Key: wireItemToSdk({ pk: { S: 'session' } }) }),
      );
      if (!got.Item) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await drain(table);
    const loc = backupLocation(bucket, table);
    const ttl = await versionsOf(s3, bucket, objectKeyFor(loc, { pk: { S: 'session' } }));
    expect(ttl.filter((v) => !v.isDeleteMarker).map((v) => `${v.meta?.event}/${v.meta?.cause}`)).toEqual([
      'INSERT/user',
      'REMOVE/ttl',
    ]);
    const user = await versionsOf(s3, bucket, objectKeyFor(loc, { pk: { S: 'user-deleted' } }));
    expect(user.filter((v) => !v.isDeleteMarker).map((v) => `${v.meta?.event}/${v.meta?.cause}`)).toEqual([
      'INSERT/user',
      'REMOVE/user',
    ]);
  });

  it('restores exactly through the CLI when the writer ran long after the changes (phases in two minutes)', async () => {
    const table = await newTable([{ name: 'pk', type: 'S', role: 'HASH' }]);
    // Phase 1: inserts and updates. DynamoDB Local stamps changes with the minute, so phase 2
    // starts in the next minute and the restore instant is just before that minute.
    for (let i = 0; i < 20; i++)
      await put(table, { pk: { S: `item-${i}` }, v: { N: '1' }, phase: { S: 'one' } });
    for (let i = 0; i < 5; i++) {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: wireItemToSdk({ pk: { S: `item-${i}` } }),
          UpdateExpression: 'SET v = :v',
          ExpressionAttributeValues: { ':v': { N: '2' } },
        }),
      );
    }
    await dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: wireItemToSdk({ pk: { S: 'item-19' } }) }),
    );
    const loc = backupLocation(bucket, table);
    const phaseOne = await tableState(dynamodb, table, loc, ['pk']);
    const nextMinute = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
    await new Promise((r) => setTimeout(r, nextMinute - Date.now() + 200));
    // Phase 2: updates, deletes, new items, a re-insert.
    for (let i = 0; i < 10; i++)
      await put(table, { pk: { S: `item-${i}` }, v: { N: '3' }, phase: { S: 'two' } });
    for (let i = 10; i < 15; i++)
      await dynamodb.send(
        new DeleteItemCommand({ TableName: table, Key: wireItemToSdk({ pk: { S: `item-${i}` } }) }),
      );
    await put(table, { pk: { S: 'item-19' }, phase: { S: 'two' } });
    await put(table, { pk: { S: 'new-in-two' } });

    // Only now does the writer run: every LastModified is after both phases.
    const env = { ...process.env };
    const stream = await runCli(
      ['stream', '--table', table, '--bucket', bucket, '--drain', '--checkpoint-dir', checkpoints, '--json'],
      env,
    );
    expect(stream.code).toBe(0);
    expect(stream.stderr).not.toMatch(/ddb-rewind:/);
    expect(JSON.parse(stream.stdout).records).toBe(20 + 5 + 1 + 10 + 5 + 2);

    const target = `${table}-restored`;
    tables.push(target);
    const restored = await runCli(
      [
        'restore',
        '--table',
        table,
        '--bucket',
        bucket,
        '--at',
        new Date(nextMinute - 1).toISOString(),
        '--target-table',
        target,
        '--create-table',
        '--json',
      ],
      env,
    );
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ itemsPut: 19, itemsDeleted: 0 });
    expect(await tableState(dynamodb, target, loc, ['pk'])).toEqual(phaseOne);

    const now = await runCli(
      [
        'restore',
        '--table',
        table,
        '--bucket',
        bucket,
        '--target-table',
        target,
        '--mode',
        'rewind',
        '--json',
      ],
      env,
    );
    expect(now.code).toBe(0);
    expect(await tableState(dynamodb, target, loc, ['pk'])).toEqual(
      await tableState(dynamodb, table, loc, ['pk']),
    );
  });
});
