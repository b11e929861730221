import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { writeWithBackpressure } from '../backpressure';
import { canonicalItemJson, type SdkItem, sdkItemToWire, type WireItem } from '../ddb-json';
import { keyOf } from '../item-key';
import { type BackupLocation, hashPrefixOf, type ItemKey, objectKeyFor } from '../object-key';
import { inPartition, type Partition } from '../partition';

/** A target item as the restore compares it: its key and a hash of its whole image. */
export interface TargetEntry {
  imageHash: string;
  key: ItemKey;
}

export const imageHash = (image: WireItem): string =>
  createHash('sha256').update(canonicalItemJson(image)).digest('base64url');

/** The target's items of one hash prefix at a time, however they were read. */
export interface TargetView {
  /** The target items of one hash prefix, by object key. */
  load(hashPrefix: string): Promise<Map<string, TargetEntry>>;
  dispose(): Promise<void>;
}

/**
 * The target table's items, spilled to one file per hash prefix, so a restore can compare and
 * find extra items one prefix at a time without holding the whole table in memory.
 */
export interface SnapshotRequest {
  table: string;
  keyNames: readonly string[];
  /** The backup whose object keys and hash prefixes the spill files use. */
  source: BackupLocation;
  partition: Partition;
  /** Parallel scan segments. @default 4 */
  segments?: number;
}

export class TargetSnapshot implements TargetView {
  private constructor(private readonly dir: string) {}

  static async take(
    dynamodb: DynamoDBClient,
    { table, keyNames, source, partition, segments = 4 }: SnapshotRequest,
  ): Promise<TargetSnapshot> {
    const dir = await mkdtemp(join(tmpdir(), 'ddb-rewind-target-'));
    const files = new Map<string, WriteStream>();
    const fileOf = (hh: string): WriteStream => {
      let f = files.get(hh);
      if (!f) {
        f = createWriteStream(join(dir, hh));
        files.set(hh, f);
      }
      return f;
    };
    await Promise.all(
      Array.from({ length: segments }, async (_, segment) => {
        const pages = paginateScan(
          { client: dynamodb },
          { TableName: table, Segment: segment, TotalSegments: segments, ConsistentRead: true },
        );
        for await (const page of pages) {
          for (const item of page.Items ?? []) {
            const image = sdkItemToWire(item as SdkItem);
            const key = keyOf(image, keyNames);
            const objectKey = objectKeyFor(source, key);
            const hh = hashPrefixOf(source, objectKey);
            if (!inPartition(partition, hh)) continue;
            const line = `${JSON.stringify([objectKey, imageHash(image), key])}\n`;
            await writeWithBackpressure(fileOf(hh), line);
          }
        }
      }),
    );
    await Promise.all([...files.values()].map((f) => new Promise<void>((r) => f.end(() => r()))));
    return new TargetSnapshot(dir);
  }

  /** The target items of one hash prefix, by object key. */
  async load(hashPrefix: string): Promise<Map<string, TargetEntry>> {
    const out = new Map<string, TargetEntry>();
    const file = join(this.dir, hashPrefix);
    if (!existsSync(file)) return out;
    for await (const line of createInterface({
      input: createReadStream(file),
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      const [objectKey, hash, key] = JSON.parse(line) as [string, string, ItemKey];
      out.set(objectKey, { imageHash: hash, key });
    }
    return out;
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
