import { gunzipSync, gzipSync } from 'node:zlib';
import { DescribeTableCommand, type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type SdkItem, sdkItemToWire } from '../ddb-json';
import { InputError } from '../errors';
import { keyOf } from '../item-key';
import type { JobRef, JobTask, TaskOutcome } from '../job-model';
import { type BackupLocation, hashPrefixOf, type ItemKey, objectKeyFor } from '../object-key';
import { inPartition, type Partition, prefixesOf } from '../partition';
import { TaskPool } from '../task-pool';
import { getJobJson, jobRoot, saveTaskResult } from './job-store';
import { counted, RequestTally, requestSummary } from './request-tally';
import { imageHash, type TargetEntry, type TargetView } from './target-snapshot';
import { readObjectIfExists } from './version-store';

/**
 * A table read once for a whole distributed job: each parallel-scan segment (one prepare task)
 * writes its items' (object key, image hash, key) per hash prefix to the run's scratch folder,
 * and each partition then reads only its prefixes' files. 16 partitions read the table once,
 * not 16 times.
 *
 * Layout under `_jobs/<jobId>/spill/<segment>/`: `<hh>.jsonl.gz` for each prefix the segment
 * met, then `done.json` last (`{items, prefixes}`): a retried segment rewrites both, and a
 * reader trusts only the prefixes its done.json names.
 */
export interface SpillSegment {
  table: string;
  keyNames: readonly string[];
  /** The backup whose object keys and hash prefixes the spill uses. */
  source: BackupLocation;
  segment: number;
  totalSegments: number;
}

interface SegmentDone {
  items: number;
  prefixes: string[];
}

const segmentDir = (ref: JobRef, segment: number): string =>
  `${jobRoot(ref)}spill/${String(segment).padStart(4, '0')}/`;

/** Scans one segment (consistently) and writes its spill; returns the items it read. */
export async function spillSegment(
  clients: { s3: S3Client; dynamodb: DynamoDBClient },
  ref: JobRef,
  seg: SpillSegment,
): Promise<number> {
  const lines = new Map<string, string[]>();
  let items = 0;
  const pages = paginateScan(
    { client: clients.dynamodb },
    { TableName: seg.table, Segment: seg.segment, TotalSegments: seg.totalSegments, ConsistentRead: true },
  );
  for await (const page of pages) {
    for (const raw of page.Items ?? []) {
      const image = sdkItemToWire(raw as SdkItem);
      const key = keyOf(image, seg.keyNames);
      const objectKey = objectKeyFor(seg.source, key);
      const hh = hashPrefixOf(seg.source, objectKey);
      const list = lines.get(hh) ?? [];
      lines.set(hh, list);
      list.push(JSON.stringify([objectKey, imageHash(image), key]));
      items++;
    }
  }
  const dir = segmentDir(ref, seg.segment);
  const pool = new TaskPool(16);
  for (const [hh, list] of lines) {
    await pool.submit(() =>
      putBody(clients.s3, ref.bucket, `${dir}${hh}.jsonl.gz`, gzipSync(list.join('\n'))),
    );
  }
  await pool.drain();
  const done: SegmentDone = { items, prefixes: [...lines.keys()].sort() };
  await putBody(clients.s3, ref.bucket, `${dir}done.json`, Buffer.from(JSON.stringify(done)));
  return items;
}

async function putBody(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Every segment's done record; a missing one means the prepare step did not finish. */
async function segmentsDone(s3: S3Client, ref: JobRef, totalSegments: number): Promise<SegmentDone[]> {
  return Promise.all(
    Array.from({ length: totalSegments }, async (_, segment) => {
      const done = await getJobJson<SegmentDone>(
        s3,
        ref,
        `spill/${String(segment).padStart(4, '0')}/done.json`,
      );
      if (!done) {
        throw new InputError(
          `The target's spill segment ${segment} of job ${ref.jobId} is not finished: run the job's prepare tasks before its partitions`,
        );
      }
      return done;
    }),
  );
}

/** Items the spill read, over all segments: the target's whole scan. */
export async function spilledItems(s3: S3Client, ref: JobRef, totalSegments: number): Promise<number> {
  return (await segmentsDone(s3, ref, totalSegments)).reduce((n, d) => n + d.items, 0);
}

/** One partition's view of the spilled target, prefix by prefix. */
export class SpillView implements TargetView {
  private constructor(
    private readonly s3: S3Client,
    private readonly ref: JobRef,
    private readonly holders: Map<string, number[]>,
  ) {}

  static async open(
    s3: S3Client,
    ref: JobRef,
    totalSegments: number,
    partition: Partition,
  ): Promise<SpillView> {
    prefixesOf(partition); // checks the partition before anything is read
    const holders = new Map<string, number[]>();
    (await segmentsDone(s3, ref, totalSegments)).forEach((done, segment) => {
      for (const hh of done.prefixes) {
        if (!inPartition(partition, hh)) continue;
        const list = holders.get(hh) ?? [];
        list.push(segment);
        holders.set(hh, list);
      }
    });
    return new SpillView(s3, ref, holders);
  }

  async load(hashPrefix: string): Promise<Map<string, TargetEntry>> {
    const out = new Map<string, TargetEntry>();
    for (const segment of this.holders.get(hashPrefix) ?? []) {
      const key = `${segmentDir(this.ref, segment)}${hashPrefix}.jsonl.gz`;
      const body = await readObjectIfExists(this.s3, this.ref.bucket, key);
      if (!body)
        throw new InputError(
          `The spill file ${key} named by its segment's done.json is missing: re-run the job`,
        );
      for (const line of gunzipSync(body).toString('utf8').split('\n')) {
        if (!line) continue;
        const [objectKey, hash, itemKey] = JSON.parse(line) as [string, string, ItemKey];
        out.set(objectKey, { imageHash: hash, key: itemKey });
      }
    }
    return out;
  }

  async dispose(): Promise<void> {}
}

const SPILL_ITEMS_PER_SEGMENT = 250_000;

/** One scan segment per 250,000 of the table's items (DynamoDB's estimate), at least `min`. */
export async function spillSegmentsFor(
  dynamodb: DynamoDBClient,
  table: string,
  min: number,
): Promise<number> {
  const out = await dynamodb.send(new DescribeTableCommand({ TableName: table }));
  const items = out.Table?.ItemCount ?? 0;
  return Math.min(1000, Math.max(min, Math.ceil(items / SPILL_ITEMS_PER_SEGMENT)));
}

/** A job's prepare task: spills its segment and stores the items read and its requests. */
export async function runSpillTask<T extends { segment: number }>(
  clients: { s3: S3Client; dynamodb: DynamoDBClient },
  task: JobTask<T>,
  seg: Omit<SpillSegment, 'segment'>,
): Promise<TaskOutcome<T>> {
  const tally = new RequestTally();
  const counting = { s3: counted(clients.s3, tally), dynamodb: counted(clients.dynamodb, tally) };
  const items = await spillSegment(counting, task, { ...seg, segment: task.params.segment });
  await saveTaskResult(clients.s3, task, { items, ...requestSummary(tally) });
  return { done: true, id: task.id };
}
