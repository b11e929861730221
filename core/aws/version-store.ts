import {
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type BackupWrite, type ChangeMeta, metaFromS3, metaToS3 } from '../change-record';
import { ConfigurationError } from '../errors';
import { compareObjectKeys } from '../pack-format';
import type { ListedVersion } from '../select-version';

/** Writes one change (the new image, or a tombstone then a delete marker); returns the version id of its PUT (a removal's tombstone), for the change index. */
export async function writeChange(
  s3: S3Client,
  bucket: string,
  change: BackupWrite,
): Promise<string | undefined> {
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: change.objectKey,
      Body: change.body,
      ContentType: 'application/json',
      Metadata: metaToS3(change.meta),
    }),
  );
  if (change.kind === 'remove')
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: change.objectKey }));
  return put.VersionId;
}

const versioningChecked = new Set<string>();

/** Refuses a bucket without versioning: a backup there would overwrite history silently. */
export async function assertVersionedBucket(s3: S3Client, bucket: string): Promise<void> {
  if (versioningChecked.has(bucket)) return;
  const out = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  if (out.Status !== 'Enabled') {
    throw new ConfigurationError(
      `Bucket ${bucket} has versioning ${out.Status ?? 'never enabled'}: enable it (aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled), or every change would overwrite the last`,
    );
  }
  versioningChecked.add(bucket);
}

/** One object key with all its versions and delete markers, newest first. */
export interface KeyVersions {
  objectKey: string;
  versions: ListedVersion[];
}

function entriesOf(page: ListObjectVersionsCommandOutput): Array<ListedVersion & { key: string }> {
  const out: Array<ListedVersion & { key: string }> = [];
  for (const v of page.Versions ?? []) {
    if (!v.Key || !v.VersionId) continue;
    out.push({
      key: v.Key,
      versionId: v.VersionId,
      lastModifiedMs: v.LastModified?.getTime() ?? 0,
      isDeleteMarker: false,
      ...(v.ETag ? { etag: v.ETag } : {}),
    });
  }
  for (const m of page.DeleteMarkers ?? []) {
    if (!m.Key || !m.VersionId) continue;
    out.push({
      key: m.Key,
      versionId: m.VersionId,
      lastModifiedMs: m.LastModified?.getTime() ?? 0,
      isDeleteMarker: true,
    });
  }
  // The SDK splits versions and markers into two lists; S3 orders both by key, then newest first.
  // A marker is always written after the tombstone it covers, so ties put the marker first.
  return out.sort(
    (a, b) =>
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) ||
      b.lastModifiedMs - a.lastModifiedMs ||
      Number(b.isDeleteMarker) - Number(a.isDeleteMarker),
  );
}

/**
 * Streams every object key under `prefix` with its versions, one key at a time, holding only
 * one key's versions in memory. Pages that split one key's versions are stitched together.
 */
export async function* listKeyVersions(
  s3: S3Client,
  bucket: string,
  prefix: string,
  options: { startAfterKey?: string; pageSize?: number } = {},
): AsyncGenerator<KeyVersions> {
  let current: KeyVersions | undefined;
  const after = options.startAfterKey;
  for await (const page of listPages(s3, bucket, prefix, options)) {
    for (const entry of entriesOf(page)) {
      // KeyMarker alone: S3 starts after the key, radosgw with the key's own versions. Skip them.
      if (after !== undefined && compareObjectKeys(entry.key, after) <= 0) continue;
      if (current && current.objectKey !== entry.key) {
        yield current;
        current = undefined;
      }
      current ??= { objectKey: entry.key, versions: [] };
      const { key: _key, ...version } = entry;
      current.versions.push(version);
    }
  }
  if (current) yield current;
}

// The SDK has no paginator for ListObjectVersions: it pages on two markers.
async function* listPages(
  s3: S3Client,
  bucket: string,
  prefix: string,
  options: { startAfterKey?: string; pageSize?: number },
): AsyncGenerator<ListObjectVersionsCommandOutput> {
  let keyMarker = options.startAfterKey;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        ...(options.pageSize ? { MaxKeys: options.pageSize } : {}),
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
      }),
    );
    yield page;
    if (!page.IsTruncated) return;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** The versions of exactly one object key (a prefix listing that ignores longer keys). */
export async function listVersionsOfKey(
  s3: S3Client,
  bucket: string,
  objectKey: string,
): Promise<ListedVersion[]> {
  for await (const group of listKeyVersions(s3, bucket, objectKey)) {
    // Keys sharing this one as a prefix sort after it: the first group is ours if it exists.
    return group.objectKey === objectKey ? group.versions : [];
  }
  return [];
}

/** Reads one version's ChangeMeta without its body. */
export async function readVersionMeta(
  s3: S3Client,
  bucket: string,
  objectKey: string,
  versionId: string,
): Promise<ChangeMeta | undefined> {
  const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey, VersionId: versionId }));
  return metaFromS3(out.Metadata);
}

/** Reads one version's body (DynamoDB JSON text) and ChangeMeta. */
export async function readVersion(
  s3: S3Client,
  bucket: string,
  objectKey: string,
  versionId: string,
): Promise<{ body: string; meta: ChangeMeta | undefined }> {
  const { body, metadata } = await readVersionRaw(s3, bucket, objectKey, versionId);
  return { body, meta: metaFromS3(metadata) };
}

/** One version's body and its S3 user metadata as stored (what a pack keeps). */
export async function readVersionRaw(
  s3: S3Client,
  bucket: string,
  objectKey: string,
  versionId: string,
): Promise<{ body: string; metadata: Record<string, string> }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey, VersionId: versionId }));
  const body = (await out.Body?.transformToString('utf8')) ?? '';
  return { body, metadata: out.Metadata ?? {} };
}

/** The current object at `key`, or undefined when there is none (state files, pack parts). */
export async function readObjectIfExists(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Uint8Array | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToByteArray();
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** The current object at `key` parsed as JSON, or undefined when there is none. */
export async function readJsonIfExists<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  const bytes = await readObjectIfExists(s3, bucket, key);
  return bytes && (JSON.parse(Buffer.from(bytes).toString('utf8')) as T);
}
