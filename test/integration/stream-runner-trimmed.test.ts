import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { clientsFromEnv, streamsClient } from '../../core/aws/clients';
import { listGaps, recordGap } from '../../core/aws/gap-store';
import { runStream } from '../../core/aws/stream-runner';
import { streamHandler } from '../../core/aws/stream-writer';
import { loadCheckpoint } from '../../core/checkpoint-file';
import { type SdkItem, sdkItemToWire, wireItemToSdk } from '../../core/ddb-json';
import { gapsTouching } from '../../core/gaps';
import { silentLog } from '../../core/log';
import { backupLocation, objectKeyFor } from '../../core/object-key';
import { versionsOf } from '../support/backup-reader';
import { createTable, createVersionedBucket, deleteBucket, dropTable } from '../support/fixtures';
import { randomName } from '../support/local-env';

const { s3, dynamodb } = clientsFromEnv();
const bucket = randomName('trimmed');
const tables: string[] = [];
const checkpoints = mkdtempSync(join(tmpdir(), 'rw-trimmed-'));

beforeAll(() => createVersionedBucket(s3, bucket));
afterAll(async () => {
  for (const t of tables) await dropTable(dynamodb, t);
  await deleteBucket(s3, bucket);
});

/**
 * The real streams client with a trim DynamoDB Local never makes: once `through` is set, the
 * records up to that sequence number are gone as on AWS after 24 h. Positions before it are
 * refused with the SDK's own TrimmedDataAccessException, TRIM_HORIZON starts after it, and
 * `onGetRecords` may make the trim happen under a GetRecords call. Everything else reaches
 * DynamoDB Local unchanged.
 */
class SimulatedTrim {
  through: string | undefined;
  getRecordsCalls = 0;
  onGetRecords?: (call: number) => string | undefined;
  readonly client: DynamoDBStreamsClient = streamsClient();

  constructor() {
    const error = (what: string) =>
      new TrimmedDataAccessException({ message: `${what}: records before the trim horizon`, $metadata: {} });
    this.client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input;
        if ('ShardIterator' in input) {
          const trimNow = this.onGetRecords?.(++this.getRecordsCalls);
          if (trimNow) {
            this.through = trimNow;
            throw error('GetRecords');
          }
        }
        if ('ShardIteratorType' in input && this.through !== undefined) {
          const through = BigInt(this.through);
          const at = input.SequenceNumber === undefined ? undefined : BigInt(input.SequenceNumber);
          if (input.ShardIteratorType === 'TRIM_HORIZON')
            return next({
              ...args,
              input: { ...input, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.through },
            });
          if (
            at !== undefined &&
            ((input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' && at < through) ||
              (input.ShardIteratorType === 'AT_SEQUENCE_NUMBER' && at <= through))
          )
            throw error('GetShardIterator');
        }
        return next(args);
      },
      { step: 'initialize', name: 'simulatedTrim' },
    );
  }
}

async function newTable(): Promise<string> {
  const table = randomName('trimmed');
  tables.push(table);
  await createTable(dynamodb, table, { keys: [{ name: 'pk', type: 'S', role: 'HASH' }] });
  return table;
}

function drain(table: string, streams: DynamoDBStreamsClient) {
  const handler = streamHandler({ s3, dynamodb, log: silentLog }, { bucket, concurrency: 16 });
  return runStream(
    {
      dynamodb,
      streams,
      log: silentLog,
      handler,
      onGap: (gap) => recordGap(s3, backupLocation(bucket, table), gap),
    },
    {
      table,
      drain: true,
      checkpointFile: join(checkpoints, `${table}.json`),
      pollIntervalMs: 100,
      batchSize: 5,
    },
  );
}

const put = async (table: string, pk: string, v: number) => {
  await dynamodb.send(
    new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: pk }, v: { N: String(v) } }) }),
  );
};

/** Every record of the table's stream as DynamoDB Local holds it (one shard there), in order. */
async function streamRecords(
  table: string,
): Promise<Array<{ sequence: string; timeMs: number; pk: string }>> {
  const streams = streamsClient();
  const arn = (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn;
  const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: arn }))).StreamDescription
    ?.Shards;
  expect(shards).toHaveLength(1);
  let iterator = (
    await streams.send(
      new GetShardIteratorCommand({
        StreamArn: arn,
        ShardId: shards?.[0]?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    )
  ).ShardIterator;
  const out: Array<{ sequence: string; timeMs: number; pk: string }> = [];
  while (iterator) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
    if (!page.Records?.length) break;
    for (const r of page.Records)
      out.push({
        sequence: r.dynamodb?.SequenceNumber ?? '',
        timeMs: r.dynamodb?.ApproximateCreationDateTime?.getTime() ?? Number.NaN,
        pk: r.dynamodb?.Keys?.pk?.S ?? '',
      });
    iterator = page.NextShardIterator;
  }
  return out;
}

/** The backup's latest image of an item (undefined: none, or deleted). */
async function backedUp(table: string, pk: string): Promise<unknown> {
  const versions = await versionsOf(
    s3,
    bucket,
    objectKeyFor(backupLocation(bucket, table), { pk: { S: pk } }),
  );
  const latest = versions[versions.length - 1];
  return latest?.body === undefined ? undefined : JSON.parse(latest.body);
}

async function inTable(table: string, pk: string): Promise<unknown> {
  const got = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: wireItemToSdk({ pk: { S: pk } }) }),
  );
  return got.Item ? sdkItemToWire(got.Item as SdkItem) : undefined;
}

/**
 * Five changes read (a0-a4), then five the stream loses (updates of a0-a2, new lost0-lost1), then
 * five after the trim (new c0-c4). Returns the stream's own records for exact expectations.
 */
async function beforeAndAfterTrim(table: string, afterFirstFive: () => Promise<void>) {
  for (let i = 0; i < 5; i++) await put(table, `a${i}`, 1);
  await afterFirstFive();
  for (let i = 0; i < 3; i++) await put(table, `a${i}`, 2);
  for (let i = 0; i < 2; i++) await put(table, `lost${i}`, 1);
  for (let i = 0; i < 5; i++) await put(table, `c${i}`, 1);
  const records = await streamRecords(table);
  expect(records.map((r) => r.pk)).toEqual([
    ...['a0', 'a1', 'a2', 'a3', 'a4', 'a0', 'a1', 'a2', 'lost0', 'lost1'],
    ...['c0', 'c1', 'c2', 'c3', 'c4'],
  ]);
  return { lastRead: records[4], lost: records.slice(5, 10), lastLost: records[9], firstAfter: records[10] };
}

async function expectOnlyTrimmedLost(table: string) {
  for (let i = 0; i < 5; i++) expect(await backedUp(table, `c${i}`)).toEqual(await inTable(table, `c${i}`));
  for (let i = 0; i < 2; i++) expect(await backedUp(table, `lost${i}`)).toBeUndefined();
  expect(await backedUp(table, 'a0')).toEqual({ pk: { S: 'a0' }, v: { N: '1' } });
}

describe('stream runner meeting trimmed records', () => {
  it('records a "records trimmed" gap when its checkpoint was trimmed while it was stopped, and backs up what follows', async () => {
    const table = await newTable();
    const sim = new SimulatedTrim();
    const { lastRead, lastLost, firstAfter } = await beforeAndAfterTrim(table, async () => {
      expect((await drain(table, sim.client)).records).toBe(5);
    });
    sim.through = lastLost?.sequence;

    const summary = await drain(table, sim.client);

    expect(summary.records).toBe(5);
    expect(await listGaps(s3, backupLocation(bucket, table))).toEqual([
      { fromMs: lastRead?.timeMs, toMs: firstAfter?.timeMs, reason: 'records trimmed' },
    ]);
    await expectOnlyTrimmedLost(table);
  });

  it('records the gap when GetRecords meets the trim mid-run, with the last read time kept in memory', async () => {
    const table = await newTable();
    const sim = new SimulatedTrim();
    const { lastRead, lost, lastLost, firstAfter } = await beforeAndAfterTrim(table, async () => undefined);
    // The first call reads a0-a4 (batch size 5); by the second, the stream has moved on.
    sim.onGetRecords = (call) => (call === 2 ? lastLost?.sequence : undefined);

    const summary = await drain(table, sim.client);

    expect(summary.records).toBe(10);
    const gaps = await listGaps(s3, backupLocation(bucket, table));
    expect(gaps).toEqual([{ fromMs: lastRead?.timeMs, toMs: firstAfter?.timeMs, reason: 'records trimmed' }]);
    // Every lost change falls inside the gap, so a restore as of its time warns.
    for (const r of lost) expect(gapsTouching(gaps, r.timeMs)).toHaveLength(1);
    await expectOnlyTrimmedLost(table);
  });

  it('ends the gap at the time it gave up when nothing follows the trim, once, and resumes at the horizon', async () => {
    const table = await newTable();
    const sim = new SimulatedTrim();
    for (let i = 0; i < 5; i++) await put(table, `a${i}`, 1);
    expect((await drain(table, sim.client)).records).toBe(5);
    await put(table, 'lost0', 1);
    const records = await streamRecords(table);
    sim.through = records[5]?.sequence;

    const before = Date.now();
    await drain(table, sim.client);
    const after = Date.now();
    const gaps = await listGaps(s3, backupLocation(bucket, table));
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ fromMs: records[4]?.timeMs, reason: 'records trimmed' });
    expect(gaps[0]?.toMs).toBeGreaterThanOrEqual(before);
    expect(gaps[0]?.toMs).toBeLessThanOrEqual(after);
    const checkpoint = await loadCheckpoint(join(checkpoints, `${table}.json`));
    expect(Object.values(checkpoint?.shards ?? {})[0]).toEqual({
      lastChangeTimeMs: Math.floor((gaps[0]?.toMs ?? 0) / 60_000) * 60_000,
    });

    await put(table, 'later', 1);
    expect((await drain(table, sim.client)).records).toBe(1);
    expect(await listGaps(s3, backupLocation(bucket, table))).toHaveLength(1);
    expect(await backedUp(table, 'later')).toEqual(await inTable(table, 'later'));
  });
});
