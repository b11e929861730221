// Proves the local stack is the real thing the project relies on: S3 keeps every version of a key,
// and DynamoDB Local emits stream records with both images. Plain SDK clients, no project code.
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomName, stackHint } from '../support/local-env';

const bucket = randomName('stack');
const table = randomName('stack');
let s3: S3Client | undefined;
let dynamodb: DynamoDBClient | undefined;
let streams: DynamoDBStreamsClient | undefined;
let bucketCreated = false;
let tableCreated = false;

/** The endpoint in `variable`; never fall through to real AWS. */
function endpointFrom(variable: string): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is not set, so there is no local server to test: ${stackHint}`);
  return value;
}

async function mustAnswer(what: string, endpoint: string, call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`${what} at ${endpoint} did not answer (${reason}): ${stackHint}`, { cause: error });
  }
}

beforeAll(async () => {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const s3Endpoint = endpointFrom('AWS_ENDPOINT_URL_S3');
  const ddbEndpoint = endpointFrom('AWS_ENDPOINT_URL_DYNAMODB');
  const streamsEndpoint = endpointFrom('AWS_ENDPOINT_URL_DYNAMODB_STREAMS');
  s3 = new S3Client({
    region,
    endpoint: s3Endpoint,
    forcePathStyle: true,
    // The SDK's default checksums break streamed bodies on RGW (411 Length Required).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  dynamodb = new DynamoDBClient({ region, endpoint: ddbEndpoint });
  streams = new DynamoDBStreamsClient({ region, endpoint: streamsEndpoint });
  await mustAnswer('S3', s3Endpoint, s3.send(new ListBucketsCommand({})));
  await mustAnswer('DynamoDB', ddbEndpoint, dynamodb.send(new ListTablesCommand({})));
});

afterAll(async () => {
  if (s3 && bucketCreated) {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key as string,
      VersionId: v.VersionId as string,
    }));
    if (objects.length > 0) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  }
  if (dynamodb && tableCreated) await dynamodb.send(new DeleteTableCommand({ TableName: table }));
  s3?.destroy();
  dynamodb?.destroy();
  streams?.destroy();
});

describe('the local stack', () => {
  it('keeps every version of a key and a delete marker in a versioned S3 bucket', async () => {
    const client = s3!;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    bucketCreated = true;
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const key = 'items/one';
    const putIds: string[] = [];
    for (const body of ['v1', 'v2', 'v3']) {
      const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      putIds.push(put.VersionId as string);
    }
    const deleted = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    expect(deleted.DeleteMarker).toBe(true);

    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    const versions = listed.Versions ?? [];
    expect(versions.map((v) => v.VersionId)).toEqual([...putIds].reverse());
    expect(versions.every((v) => v.Key === key && v.IsLatest === false)).toBe(true);
    expect(listed.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([
      [key, deleted.VersionId, true],
    ]);
    const bodies: string[] = [];
    for (const id of putIds) {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: id }));
      bodies.push((await got.Body?.transformToString()) ?? '');
    }
    expect(bodies).toEqual(['v1', 'v2', 'v3']);
  });

  it('streams INSERT, MODIFY and REMOVE with old and new images from DynamoDB Local', async () => {
    const client = dynamodb!;
    const created = await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    tableCreated = true;
    const streamArn = created.TableDescription?.LatestStreamArn;
    expect(streamArn).toBeDefined();

    const pk = { S: 'item-1' };
    await client.send(
      new PutItemCommand({ TableName: table, Item: { pk, n: { N: '1' }, s: { S: 'first' } } }),
    );
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '2' } },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: table, Key: { pk } }));

    const records = await readStream(streamArn as string, 3);
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const [insert, modify, remove] = records.map((r) => r.dynamodb);
    expect(insert?.Keys).toEqual({ pk });
    expect(insert?.OldImage).toBeUndefined();
    expect(insert?.NewImage).toEqual({ pk, n: { N: '1' }, s: { S: 'first' } });
    expect(modify?.OldImage).toEqual({ pk, n: { N: '1' }, s: { S: 'first' } });
    expect(modify?.NewImage).toEqual({ pk, n: { N: '2' }, s: { S: 'first' } });
    expect(remove?.OldImage).toEqual({ pk, n: { N: '2' }, s: { S: 'first' } });
    expect(remove?.NewImage).toBeUndefined();
    expect(records.every((r) => r.dynamodb?.StreamViewType === 'NEW_AND_OLD_IMAGES')).toBe(true);
    // Sequence numbers are decimal strings of varying length: compare them as BigInt.
    const sequence = records.map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0'));
    expect(sequence[0]! < sequence[1]! && sequence[1]! < sequence[2]!).toBe(true);
  });
});

/** Reads every shard of a stream from TRIM_HORIZON until `count` records arrived (10 s at most). */
async function readStream(streamArn: string, count: number): Promise<StreamRecord[]> {
  const client = streams!;
  const described = await client.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const shards = described.StreamDescription?.Shards ?? [];
  expect(shards.length).toBeGreaterThan(0);
  const records: StreamRecord[] = [];
  const deadline = Date.now() + 10_000;
  for (const shard of shards) {
    const start = await client.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId as string,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let iterator = start.ShardIterator;
    while (iterator && records.length < count && Date.now() < deadline) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(page.Records ?? []));
      iterator = page.NextShardIterator;
      if ((page.Records ?? []).length === 0) await new Promise((r) => setTimeout(r, 200));
    }
  }
  return records;
}
