import type { _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import {
  causeOf,
  changeFromRecord,
  metaFromS3,
  metaToS3,
  tableFromStreamArn,
} from '../../core/change-record';
import { backupLocation } from '../../core/object-key';
import { lowestSequence, readyShards } from '../../core/shard-order';
import { lambdaRecord } from '../../core/stream-event';

const arn = 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000';

describe('readyShards', () => {
  const shards = [
    { shardId: 'a' },
    { shardId: 'b', parentShardId: 'a' },
    { shardId: 'c', parentShardId: 'b' },
    { shardId: 'd', parentShardId: 'gone' },
  ];
  it('reads parents before children, and orphans whose parent was trimmed at once', () => {
    expect(readyShards(shards, new Set()).map((s) => s.shardId)).toEqual(['a', 'd']);
    expect(readyShards(shards, new Set(['a'])).map((s) => s.shardId)).toEqual(['b', 'd']);
    expect(readyShards(shards, new Set(['a', 'b', 'd'])).map((s) => s.shardId)).toEqual(['c']);
  });
});

describe('lowestSequence', () => {
  it('compares sequence numbers as integers, not as text', () => {
    expect(lowestSequence(['900', '1000', '10000000000000000000001'])).toBe('900');
    expect(lowestSequence([])).toBeUndefined();
  });
});

describe('lambdaRecord', () => {
  it('reshapes a Streams API record as Lambda delivers it', () => {
    const record: StreamRecord = {
      eventID: 'e1',
      eventName: 'REMOVE',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: new Date('2026-01-01T00:00:07Z'),
        Keys: { id: { B: new Uint8Array([0, 255]) } },
        OldImage: { id: { B: new Uint8Array([0, 255]) }, s: { BS: [new Uint8Array([1])] } },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 10,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      userIdentity: { PrincipalId: 'dynamodb.amazonaws.com', Type: 'Service' },
    };
    const out = lambdaRecord(record, arn);
    expect(out).toMatchObject({
      eventSourceARN: arn,
      eventName: 'REMOVE',
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      dynamodb: {
        ApproximateCreationDateTime: 1767225607,
        Keys: { id: { B: 'AP8=' } },
        OldImage: { s: { BS: ['AQ=='] } },
        SequenceNumber: '000000000000000000042',
      },
    });
    expect(causeOf(out)).toBe('ttl');
  });
});

describe('change records', () => {
  it('reads the table from the stream ARN and refuses anything else', () => {
    expect(tableFromStreamArn(arn)).toBe('orders');
    expect(() => tableFromStreamArn('arn:aws:s3:::bucket')).toThrow(
      /Expected eventSourceARN to be a DynamoDB stream ARN/,
    );
  });

  it('round-trips change metadata through S3 user metadata', () => {
    const loc = backupLocation('backups', 'orders');
    const change = changeFromRecord(loc, {
      eventID: 'e2',
      eventName: 'MODIFY',
      eventSourceARN: arn,
      dynamodb: {
        ApproximateCreationDateTime: 1767225607,
        Keys: { 'pk/odd,name': { S: 'a' } },
        NewImage: { 'pk/odd,name': { S: 'a' }, v: { N: '1' } },
        SequenceNumber: '123',
        StreamViewType: 'NEW_IMAGE',
      },
    });
    expect(metaFromS3(metaToS3(change.meta))).toEqual(change.meta);
    expect(change.meta).toMatchObject({
      timeMs: 1767225607000,
      event: 'MODIFY',
      cause: 'user',
      keyNames: ['pk/odd,name'],
    });
    expect(metaFromS3({ other: 'x' })).toBeUndefined();
  });
});
