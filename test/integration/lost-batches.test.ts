import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { recordLostBatches } from '../../core/aws/failure-recorder';
import { listGaps } from '../../core/aws/gap-store';
import { writeStreamBatch } from '../../core/aws/stream-writer';
import { wireItemToSdk } from '../../core/ddb-json';
import { gapOfLostBatch, type LostBatch } from '../../core/failure-record';
import type { Gap } from '../../core/gaps';
import { silentLog } from '../../core/log';
import { runCli } from '../support/cli';
import { EventBuilder } from '../support/fixtures';
import { randomName } from '../support/local-env';
import { scratchBackup } from '../support/scratch';

// Batches the event source mapping gave up on reach the on-failure queue as positions only.
// Here the "lost" changes are real ones on DynamoDB Local's stream, never backed up, and the
// queue messages are the records Lambda would send for them.

const { s3, dynamodb, streams, bucket, table, loc, track } = scratchBackup('lost-batches');
const dir = mkdtempSync(join(tmpdir(), 'rw-lost-'));

const put = (pk: string, v: string) =>
  dynamodb.send(
    new PutItemCommand({ TableName: table, Item: wireItemToSdk({ pk: { S: pk }, v: { N: v } }) }),
  );

interface Found {
  streamArn: string;
  shardId: string;
  record: StreamRecord;
}

/** Every record the table's stream holds, with its stream and shard. */
async function streamRecords(): Promise<Found[]> {
  const streamArn =
    (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn ?? '';
  const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription
    ?.Shards;
  const found: Found[] = [];
  for (const shard of shards ?? []) {
    let iterator = (
      await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    // An open shard always hands out a next iterator: stop at the first empty page.
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      if (!page.Records?.length) break;
      for (const record of page.Records) found.push({ streamArn, shardId: shard.ShardId ?? '', record });
      iterator = page.NextShardIterator;
    }
  }
  return found;
}

const iso = (date: Date | undefined) => (date ?? new Date(0)).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The SQS message Lambda sends its on-failure destination for a batch of these records. */
function onFailureMessage(messageId: string, batch: Found[]): SQSRecord {
  const first = batch[0]?.record.dynamodb;
  const last = batch.at(-1)?.record.dynamodb;
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: JSON.stringify({
      requestContext: {
        requestId: `request-${messageId}`,
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:writer',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 501,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: batch[0]?.shardId,
        startSequenceNumber: first?.SequenceNumber,
        endSequenceNumber: last?.SequenceNumber,
        approximateArrivalOfFirstRecord: iso(first?.ApproximateCreationDateTime),
        approximateArrivalOfLastRecord: iso(last?.ApproximateCreationDateTime),
        batchSize: batch.length,
        streamArn: batch[0]?.streamArn,
      },
    }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'AROAEXAMPLE:lambda',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:writer-on-failure',
    awsRegion: 'us-east-1',
  };
}

/** EMF lines Powertools Metrics printed while `run` ran. */
async function emfLines(run: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('batches Lambda gave up on', () => {
  it('become gap markers; restore, export and verify warn about an instant inside them', async () => {
    await put('a', '1');
    expect(
      (await runCli(['stream', '--table', table, '--bucket', bucket, '--drain', '--checkpoint-dir', dir]))
        .code,
    ).toBe(0);
    const before = new Set((await streamRecords()).map((r) => r.record.dynamodb?.SequenceNumber));
    await put('a', '2');
    await put('b', '1');
    const lost = (await streamRecords()).filter((r) => !before.has(r.record.dynamodb?.SequenceNumber));
    expect(lost).toHaveLength(2);
    const [x, y] = lost as [(typeof lost)[0], (typeof lost)[0]];

    // A bisected batch: each half failed on its own, over the same seconds.
    const event: SQSEvent = {
      Records: [
        onFailureMessage('m-1', [x]),
        onFailureMessage('m-2', [y]),
        { ...onFailureMessage('m-3', [x]), body: '{"Records":[]}' },
      ],
    };
    const metrics = new Metrics({ namespace: 'ddb-rewind', serviceName: 'failure-recorder' });
    let out: Awaited<ReturnType<typeof recordLostBatches>> | undefined;
    const emf = await emfLines(async () => {
      out = await recordLostBatches({ s3, log: silentLog, metrics }, { bucket }, event);
    });
    // The malformed message goes back to the queue (then to its redrive queue), the rest are recorded.
    expect(out?.batchItemFailures).toEqual([{ itemIdentifier: 'm-3' }]);
    expect(out?.recorded.map((b) => b.table)).toEqual([table, table]);
    const lostBatches = emf.filter((m) => 'LostBatches' in m);
    expect(lostBatches).toHaveLength(2);
    expect(lostBatches[0]).toMatchObject({ service: 'failure-recorder', table, LostBatches: 1 });
    expect(emf.filter((m) => 'LostRecords' in m).map((m) => m.LostRecords)).toEqual([1, 1]);

    // SQS delivers at least once: the same batch again is the same marker.
    const again = await recordLostBatches(
      { s3, log: silentLog },
      { bucket },
      { Records: [event.Records[0]!] },
    );
    expect(again.batchItemFailures).toEqual([]);

    // Listed as recorded (the reason survives the key), one per batch, each covering its change.
    const gaps = await listGaps(s3, loc);
    const byReason = (g: Gap, h: Gap) => g.reason.localeCompare(h.reason);
    const recorded = (out?.recorded ?? []).map(gapOfLostBatch);
    expect(gaps.sort(byReason)).toEqual(recorded.sort(byReason));
    expect(new Set(gaps.map((g) => g.reason)).size).toBe(2);
    for (const [i, { record }] of lost.entries()) {
      const changedMs = record.dynamodb?.ApproximateCreationDateTime?.getTime() ?? 0;
      const gap = gapOfLostBatch(out?.recorded[i] as LostBatch);
      expect(gap.reason).toMatch(/^lost batch shard [a-z0-9]{8} seq \d+ to \d+$/);
      expect(gap.fromMs).toBeLessThanOrEqual(changedMs);
      expect(gap.toMs).toBeGreaterThanOrEqual(changedMs);
    }

    // An instant inside the lost batch, asked of each reader the way a user would.
    const asOf = ['--table', table, '--bucket', bucket, '--at', new Date(gaps[0]?.fromMs ?? 0).toISOString()];
    const warning = /has a gap: .*\(lost batch shard [a-z0-9]+ seq \d+ to \d+\).*run `ddb-rewind backfill`/;
    const target = track(randomName('lost-target'));
    const restored = await runCli([
      'restore',
      ...asOf,
      '--target-table',
      target,
      '--create-table',
      '--dry-run',
    ]);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toMatch(warning);

    const exported = await runCli(['export', ...asOf, '--out', join(dir, 'export.json.gz')]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(warning);

    // The lost changes are missing from the backup: verify finds the drift and names the gap.
    const verified = await runCli(['verify', '--table', table, '--bucket', bucket, '--settle-ms', '200']);
    expect(verified.stderr).toMatch(warning);
  });
});

describe('a lost batch whose marker cannot be written', () => {
  it('is reported for SQS to deliver again (and, in the end, to move to the redrive queue)', async () => {
    const [found] = await streamRecords();
    const message = onFailureMessage('m-no-bucket', [found as Found]);
    const out = await recordLostBatches(
      { s3, log: silentLog },
      { bucket: randomName('no-such-bucket') },
      { Records: [message] },
    );
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-no-bucket' }], recorded: [] });
  });
});

describe('parked poison records', () => {
  it('publish RecordsParked for their table', async () => {
    const other = randomName('parked');
    const events = new EventBuilder(other);
    const malformed = events.record('INSERT', { pk: { S: 'p' } }, Math.floor(Date.now() / 1000), {
      pk: { S: 'p' },
    });
    delete malformed.dynamodb?.Keys;
    const metrics = new Metrics({ namespace: 'ddb-rewind', serviceName: 'writer' });
    const emf = await emfLines(() =>
      writeStreamBatch(
        { s3, log: silentLog, metrics },
        { bucket, concurrency: 2 },
        events.event([malformed]),
      ),
    );
    expect(emf.filter((m) => 'RecordsParked' in m)).toEqual([
      expect.objectContaining({ service: 'writer', table: other, RecordsParked: 1 }),
    ]);
  });
});
