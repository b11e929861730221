import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { WireItem } from '../../core/ddb-json';

/** A new bucket with versioning on. */
export async function createVersionedBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
}

/** Removes every version and marker, then the bucket. */
export async function deleteBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key as string,
      VersionId: v.VersionId as string,
    }));
    if (objects.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * Deletes buckets in a detached process (reap-buckets.mjs) and returns at once: the next test
 * file runs while radosgw works through the versions. Uses this process's AWS variables.
 */
export function reapBuckets(buckets: string[]): void {
  // Inside a jest run the buckets are queued and reaped once the run is over (global-teardown.ts):
  // deleting a version costs radosgw about what writing it did, CPU the other test files need.
  const queue = process.env.DDB_REWIND_REAP_QUEUE;
  if (queue) {
    appendFileSync(queue, buckets.map((b) => `${b}\n`).join(''));
    return;
  }
  spawnReaper(buckets);
}

/** Deletes the buckets from a detached process (reap-buckets.mjs): the caller does not wait. */
export function spawnReaper(buckets: string[]): void {
  if (!buckets.length) return;
  const child = spawn(process.execPath, [join(__dirname, 'reap-buckets.mjs'), ...buckets], {
    detached: true,
    stdio: 'ignore',
    env: process.env,
  });
  child.unref();
}

export interface TableSpec {
  keys: Array<{ name: string; type: 'S' | 'N' | 'B'; role: 'HASH' | 'RANGE' }>;
  stream?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'KEYS_ONLY' | 'OLD_IMAGE' | false;
}

export async function createTable(dynamodb: DynamoDBClient, table: string, spec: TableSpec): Promise<void> {
  const keySchema: KeySchemaElement[] = spec.keys.map((k) => ({ AttributeName: k.name, KeyType: k.role }));
  const defs: AttributeDefinition[] = spec.keys.map((k) => ({
    AttributeName: k.name,
    AttributeType: k.type,
  }));
  const stream = spec.stream ?? 'NEW_AND_OLD_IMAGES';
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: keySchema,
      AttributeDefinitions: defs,
      BillingMode: 'PAY_PER_REQUEST',
      ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream } } : {}),
    }),
  );
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: table });
}

export async function dropTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
  await dynamodb.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
}

/**
 * Lambda-shaped stream records with second-precision change times, for cases DynamoDB Local
 * cannot produce (it rounds change times down to the minute; TTL deletes; redeliveries).
 */
export class EventBuilder {
  private seq = 10n ** 20n;
  constructor(
    private readonly table: string,
    private readonly region = 'us-east-1',
  ) {}

  get streamArn(): string {
    return `arn:aws:dynamodb:${this.region}:000000000000:table/${this.table}/stream/2026-01-01T00:00:00.000`;
  }

  record(
    eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
    keys: WireItem,
    timeSeconds: number,
    newImage?: WireItem,
    options: { ttl?: boolean; oldImage?: WireItem } = {},
  ): DynamoDBRecord {
    this.seq += 100n;
    return {
      eventID: `ev-${this.seq}`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.region,
      eventSourceARN: this.streamArn,
      dynamodb: {
        ApproximateCreationDateTime: timeSeconds,
        Keys: keys,
        ...(newImage ? { NewImage: newImage } : {}),
        ...(options.oldImage ? { OldImage: options.oldImage } : {}),
        SequenceNumber: String(this.seq),
        SizeBytes: 100,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      ...(options.ttl ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
    };
  }

  event(records: DynamoDBRecord[]): DynamoDBStreamEvent {
    return { Records: records };
  }
}
