import type { S3Client } from '@aws-sdk/client-s3';
import { type ChangeMeta, metaFromS3 } from '../change-record';
import type { WireItem } from '../ddb-json';
import type { PackEntry } from '../pack-format';
import { type ListedVersion, outrankingVersion, selectAsOf } from '../select-version';
import { readVersionMeta, readVersionRaw } from './version-store';

export interface ItemAsOf {
  objectKey: string;
  /** The item as of T; undefined when it did not exist then. */
  image?: WireItem;
  /** True when the backup has a change of this item at or before T (a put or a delete). */
  known: boolean;
  /** True when the chosen version's body came from a pack rather than a GetObject. */
  fromPack?: boolean;
}

/** The instant a read is about, and the bound on S3's clock trailing DynamoDB's. */
export interface AsOf {
  atMs: number;
  clockSkewMs: number;
  /** Collects the change metadata read while deciding, by version id (show reuses it). */
  metas?: Map<string, ChangeMeta | undefined>;
}

/** One object key's listing, and the pack's entry for it when a pack is read. */
export interface KeyListing {
  bucket: string;
  objectKey: string;
  versions: readonly ListedVersion[];
  packed?: PackEntry | undefined;
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
  { bucket, objectKey, versions, packed }: KeyListing,
  options: AsOf,
): Promise<VersionAsOf | undefined> {
  const readMeta = async (v: ListedVersion) => {
    const meta =
      packed?.versionId === v.versionId
        ? metaFromS3(packed.metadata)
        : await readVersionMeta(s3, bucket, objectKey, v.versionId);
    options.metas?.set(v.versionId, meta);
    return meta;
  };
  const read = async (version: ListedVersion): Promise<VersionAsOf> => {
    const fromPack = packed?.versionId === version.versionId;
    const { body, metadata } =
      packed && fromPack ? packed : await readVersionRaw(s3, bucket, objectKey, version.versionId);
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
      { version: out.version, meta: out.meta },
      options,
      readMeta,
    );
    if (better)
      out = better.meta.event === 'REMOVE' ? { ...better, fromPack: false } : await read(better.version);
  }
  return out;
}

/** The item a chosen version stands for: its image, absent (a tombstone), or unknown (none). */
export function itemFromVersion(objectKey: string, chosen: VersionAsOf | undefined): ItemAsOf {
  if (!chosen) return { objectKey, known: false };
  if (chosen.meta?.event === 'REMOVE' || chosen.body === undefined) return { objectKey, known: true };
  return {
    objectKey,
    known: true,
    image: JSON.parse(chosen.body) as WireItem,
    ...(chosen.fromPack ? { fromPack: true } : {}),
  };
}
