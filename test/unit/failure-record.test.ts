import { InputError } from '../../core/errors';
import { gapOfLostBatch, parseFailureRecord } from '../../core/failure-record';

// The shape Lambda sends an SQS on-failure destination for a DynamoDB stream batch
// (docs: "Retaining discarded records for a DynamoDB event source"): arrival times are ISO
// strings to the second, sequence numbers decimal text.
const record = (info: Record<string, unknown> = {}, top: Record<string, unknown> = {}) =>
  JSON.stringify({
    requestContext: {
      requestId: '316aa6d0-8154-4c2f-a9e4-2d3e8f6b7c10',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:OrdersWriter',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 501,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-03-01T09:15:42.118Z',
    DDBStreamBatchInfo: {
      shardId: 'shardId-00000001772355600000-8f3a1c2e',
      startSequenceNumber: '310700000000071245180466',
      endSequenceNumber: '310700000000071245180611',
      approximateArrivalOfFirstRecord: '2026-03-01T09:00:07Z',
      approximateArrivalOfLastRecord: '2026-03-01T09:00:09Z',
      batchSize: 12,
      streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-15T08:00:00.000',
      ...info,
    },
    ...top,
  });

const T0 = Date.parse('2026-03-01T09:00:07Z');

/** What the gap store keeps of a reason (core/aws/gap-store.ts slug) and gives back (listGaps). */
const throughGapStore = (reason: string) =>
  (
    reason
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'gap'
  ).replaceAll('-', ' ');

describe('on-failure record', () => {
  it('reads the batch Lambda gave up on: table, shard, sequence range, arrival times, size, why', () => {
    expect(parseFailureRecord(record())).toEqual({
      table: 'orders',
      streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-15T08:00:00.000',
      shardId: 'shardId-00000001772355600000-8f3a1c2e',
      startSequenceNumber: '310700000000071245180466',
      endSequenceNumber: '310700000000071245180611',
      firstArrivalMs: T0,
      lastArrivalMs: T0 + 2000,
      batchSize: 12,
      condition: 'RetryAttemptsExhausted',
      timestamp: '2026-03-01T09:15:42.118Z',
    });
  });

  it('needs only the batch info: the context fields are optional', () => {
    const bare = JSON.parse(record()) as Record<string, unknown>;
    delete bare.requestContext;
    delete bare.timestamp;
    const batch = parseFailureRecord(JSON.stringify(bare));
    expect(batch).not.toHaveProperty('condition');
    expect(batch).not.toHaveProperty('timestamp');
    expect(batch.table).toBe('orders');
  });

  it.each([
    ['not JSON', 'RetryAttemptsExhausted', /to be JSON, got "RetryAttemptsExhausted"/],
    [
      'a Kinesis record',
      JSON.stringify({ KinesisBatchInfo: { shardId: 'shardId-000000000001' } }),
      /to have a DDBStreamBatchInfo object/,
    ],
    [
      'no shard',
      record({ shardId: undefined }),
      /`DDBStreamBatchInfo.shardId` .* non-empty string, got \(none\)/,
    ],
    [
      'a sequence number that is not decimal',
      record({ startSequenceNumber: '0x1f' }),
      /`DDBStreamBatchInfo.startSequenceNumber` .* decimal sequence number, got "0x1f"/,
    ],
    ['a number for a sequence', record({ endSequenceNumber: 42 }), /`DDBStreamBatchInfo.endSequenceNumber`/],
    [
      'a stream ARN of no table',
      record({ streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders' }),
      /`DDBStreamBatchInfo.streamArn` .* DynamoDB stream ARN/,
    ],
    [
      'an arrival time that is not a time',
      record({ approximateArrivalOfFirstRecord: 'yesterday' }),
      /`DDBStreamBatchInfo.approximateArrivalOfFirstRecord` to be an ISO-8601 time/,
    ],
    [
      'an arrival time without a zone',
      record({ approximateArrivalOfLastRecord: '2026-03-01T09:00:09' }),
      /`DDBStreamBatchInfo.approximateArrivalOfLastRecord` .* \(add a zone/,
    ],
    [
      'a last arrival before the first',
      record({ approximateArrivalOfLastRecord: '2026-03-01T09:00:06Z' }),
      /`DDBStreamBatchInfo.approximateArrivalOfLastRecord` .* not to be before/,
    ],
    ['no batch size', record({ batchSize: undefined }), /`DDBStreamBatchInfo.batchSize` to be set/],
    [
      'a batch size of 0',
      record({ batchSize: 0 }),
      /`DDBStreamBatchInfo.batchSize` .* from 1 to 10000, got `0`/,
    ],
    ['a batch size that is an object', record({ batchSize: { n: 1 } }), /`DDBStreamBatchInfo.batchSize`/],
  ])('refuses %s in one line naming the field', (_, body, message) => {
    let error: unknown;
    try {
      parseFailureRecord(body);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('gap of a lost batch', () => {
  it('covers the whole seconds of its records (DynamoDB stamps changes to the second, rounded down)', () => {
    const gap = gapOfLostBatch(parseFailureRecord(record()));
    expect(gap).toEqual({
      fromMs: T0,
      toMs: T0 + 2999,
      reason: 'lost batch shard 8f3a1c2e seq 71245180466 to 71245180611',
    });
    const fractional = parseFailureRecord(
      record({
        approximateArrivalOfFirstRecord: '2026-03-01T09:00:07.835Z',
        approximateArrivalOfLastRecord: '2026-03-01T09:00:07.835Z',
      }),
    );
    expect(gapOfLostBatch(fractional)).toMatchObject({ fromMs: T0, toMs: T0 + 999 });
  });

  it('keeps its reason whole through the gap store, even for 40-digit sequence numbers', () => {
    const longest = parseFailureRecord(
      record({ startSequenceNumber: '9'.repeat(40), endSequenceNumber: `${'9'.repeat(39)}8` }),
    );
    for (const batch of [parseFailureRecord(record()), longest]) {
      const { reason } = gapOfLostBatch(batch);
      expect(reason).toMatch(/^[a-z0-9 ]+$/);
      expect(throughGapStore(reason)).toBe(reason);
    }
  });

  it('is the same for a batch delivered twice and distinct for two batches of the same seconds', () => {
    const first = gapOfLostBatch(parseFailureRecord(record()));
    expect(gapOfLostBatch(parseFailureRecord(record()))).toEqual(first);
    // A bisected batch: its halves failed separately, over the same seconds.
    const otherHalf = gapOfLostBatch(
      parseFailureRecord(
        record({
          startSequenceNumber: '310700000000071245180612',
          endSequenceNumber: '310700000000071245180700',
        }),
      ),
    );
    expect(otherHalf).toMatchObject({ fromMs: first.fromMs, toMs: first.toMs });
    expect(otherHalf.reason).not.toBe(first.reason);
    const otherShard = gapOfLostBatch(
      parseFailureRecord(record({ shardId: 'shardId-00000001772355600000-0b7d44e1' })),
    );
    expect(otherShard.reason).not.toBe(first.reason);
  });
});
