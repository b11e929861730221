import type { S3Client } from '@aws-sdk/client-s3';
import type { WireItem } from '../ddb-json';
import { type BackupLocation, itemsRoot } from '../object-key';
import { type ListedVersion, outrankingVersion, selectAsOf } from '../select-version';
import { TaskPool } from '../task-pool';
import { listKeyVersions, type RequestCounter, readVersion, readVersionMeta } from './version-store';

export interface ItemAsOf {
  objectKey: string;
  /** The item as of T; undefined when it did not exist then. */
  image?: WireItem;
  /** True when the backup has a change of this item at or before T (a put or a delete). */
  known: boolean;
}

export interface AsOfOptions {
  atMs: number;
  clockSkewMs: number;
  /** S3 requests in flight at once. */
  concurrency: number;
  counter: RequestCounter & { versions: number };
}

/** The item behind one object key as of T: ListObjectVersions entries in, image out. */
export async function itemAsOf(
  s3: S3Client,
  bucket: string,
  objectKey: string,
  versions: Parameters<typeof selectAsOf>[0],
  options: Pick<AsOfOptions, 'atMs' | 'clockSkewMs' | 'counter'>,
): Promise<ItemAsOf> {
  const readMeta = (v: ListedVersion) => readVersionMeta(s3, bucket, objectKey, v.versionId, options.counter);
  const selected = await selectAsOf(versions, options.atMs, { clockSkewMs: options.clockSkewMs }, readMeta);
  if (!selected) return { objectKey, known: false };
  let version = selected.version;
  let meta = selected.meta;
  let body: string | undefined;
  if (meta?.event !== 'REMOVE')
    ({ body, meta } = await readVersion(s3, bucket, objectKey, version.versionId, options.counter));
  if (meta && (meta.event === 'BACKFILL' || meta.moved)) {
    const better = await outrankingVersion(
      versions,
      version,
      meta,
      options.atMs,
      { clockSkewMs: options.clockSkewMs },
      readMeta,
    );
    if (better) {
      ({ version, meta } = better);
      body = undefined;
      if (meta.event !== 'REMOVE')
        ({ body, meta } = await readVersion(s3, bucket, objectKey, version.versionId, options.counter));
    }
  }
  if (meta?.event === 'REMOVE' || body === undefined) return { objectKey, known: true };
  return { objectKey, known: true, image: JSON.parse(body) as WireItem };
}

/**
 * Every item of one hash prefix as of T, streamed: one key's versions in memory at a time, and
 * at most `concurrency` version reads in flight. `onItem` runs for each key that has versions.
 */
export async function forEachItemAsOf(
  s3: S3Client,
  loc: BackupLocation,
  hashPrefix: string,
  options: AsOfOptions,
  onItem: (item: ItemAsOf) => Promise<void>,
): Promise<void> {
  const pool = new TaskPool(options.concurrency);
  for await (const group of listKeyVersions(
    s3,
    loc.bucket,
    `${itemsRoot(loc)}${hashPrefix}/`,
    options.counter,
  )) {
    options.counter.versions += group.versions.length;
    await pool.submit(async () =>
      onItem(await itemAsOf(s3, loc.bucket, group.objectKey, group.versions, options)),
    );
  }
  await pool.drain();
}
