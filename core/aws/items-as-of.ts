import type { S3Client } from '@aws-sdk/client-s3';
import { type ChangeMeta, metaFromS3 } from '../change-record';
import type { WireItem } from '../ddb-json';
import type { Log } from '../log';
import { type BackupLocation, itemsRoot } from '../object-key';
import type { PackEntry } from '../pack-format';
import { type ListedVersion, outrankingVersion, selectAsOf } from '../select-version';
import { TaskPool } from '../task-pool';
import { type Pack, PackCursor } from './pack-reader';
import { listKeyVersions, type RequestCounter, readVersionMeta, readVersionRaw } from './version-store';

export interface ItemAsOf {
  objectKey: string;
  /** The item as of T; undefined when it did not exist then. */
  image?: WireItem;
  /** True when the backup has a change of this item at or before T (a put or a delete). */
  known: boolean;
  /** True when the chosen version's body came from a pack rather than a GetObject. */
  fromPack?: boolean;
}

export interface AsOfOptions {
  atMs: number;
  clockSkewMs: number;
  /** S3 requests in flight at once. */
  concurrency: number;
  counter: RequestCounter & { versions: number };
  /** Take chosen versions' bodies from this pack when it holds them (see pack-format.ts). */
  pack?: { pack: Pack; log: Log };
}

/** The version holding an item as of T, and its body and raw metadata when they were read. */
export interface VersionAsOf {
  version: ListedVersion;
  meta: ChangeMeta | undefined;
  body?: string;
  metadata?: Record<string, string>;
  fromPack: boolean;
}

/**
 * The version of one object key that holds the item as of T (see selectAsOf, outrankingVersion),
 * reading its body unless it is known to be a delete. `packed` answers reads of the one version
 * it holds without a request; any other version is read from S3.
 */
export async function versionAsOf(
  s3: S3Client,
  bucket: string,
  objectKey: string,
  versions: readonly ListedVersion[],
  options: Pick<AsOfOptions, 'atMs' | 'clockSkewMs' | 'counter'>,
  packed?: PackEntry,
): Promise<VersionAsOf | undefined> {
  const readMeta = async (v: ListedVersion) =>
    packed?.versionId === v.versionId
      ? metaFromS3(packed.metadata)
      : readVersionMeta(s3, bucket, objectKey, v.versionId, options.counter);
  const read = async (version: ListedVersion): Promise<VersionAsOf> => {
    const fromPack = packed?.versionId === version.versionId;
    const { body, metadata } =
      packed && fromPack
        ? packed
        : await readVersionRaw(s3, bucket, objectKey, version.versionId, options.counter);
    return { version, meta: metaFromS3(metadata), body, metadata, fromPack };
  };
  const selected = await selectAsOf(versions, options.atMs, { clockSkewMs: options.clockSkewMs }, readMeta);
  if (!selected) return undefined;
  let out: VersionAsOf =
    selected.meta?.event === 'REMOVE'
      ? { version: selected.version, meta: selected.meta, fromPack: false }
      : await read(selected.version);
  if (out.meta && (out.meta.event === 'BACKFILL' || out.meta.moved)) {
    const better = await outrankingVersion(
      versions,
      out.version,
      out.meta,
      options.atMs,
      { clockSkewMs: options.clockSkewMs },
      readMeta,
    );
    if (better)
      out = better.meta.event === 'REMOVE' ? { ...better, fromPack: false } : await read(better.version);
  }
  return out;
}

/** The item behind one object key as of T: ListObjectVersions entries in, image out. */
export async function itemAsOf(
  s3: S3Client,
  bucket: string,
  objectKey: string,
  versions: readonly ListedVersion[],
  options: Pick<AsOfOptions, 'atMs' | 'clockSkewMs' | 'counter'>,
  packed?: PackEntry,
): Promise<ItemAsOf> {
  const chosen = await versionAsOf(s3, bucket, objectKey, versions, options, packed);
  if (!chosen) return { objectKey, known: false };
  if (chosen.meta?.event === 'REMOVE' || chosen.body === undefined) return { objectKey, known: true };
  return {
    objectKey,
    known: true,
    image: JSON.parse(chosen.body) as WireItem,
    ...(chosen.fromPack ? { fromPack: true } : {}),
  };
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
  const cursor =
    options.pack && new PackCursor(s3, loc, options.pack.pack, hashPrefix, options.pack.log, options.counter);
  for await (const group of listKeyVersions(
    s3,
    loc.bucket,
    `${itemsRoot(loc)}${hashPrefix}/`,
    options.counter,
  )) {
    options.counter.versions += group.versions.length;
    const packed = await cursor?.find(group.objectKey);
    await pool.submit(async () =>
      onItem(await itemAsOf(s3, loc.bucket, group.objectKey, group.versions, options, packed)),
    );
  }
  await pool.drain();
}
