import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { indexObjectSpan, indexRoot } from '../change-index';
import type { Gap } from '../gaps';
import { type BackupLocation, backupLocation } from '../object-key';
import type { RetentionHorizon } from '../retention';
import type { TableManifest } from '../table-manifest';
import { listGaps } from './gap-store';
import { readManifest } from './manifest-store';
import { openPack } from './pack-reader';
import { readRetentionHorizon } from './retention-store';

/** What an operator checks first about one table's backup. */
export interface TableStatus {
  table: string;
  manifest: TableManifest;
  /** The latest change time the change index holds (undefined without an index). */
  lastChangeMs?: number;
  gaps: Gap[];
  horizon: RetentionHorizon;
  latestPack?: { id: string; createdMs: number; items: number };
}

/** The folders under `prefix` of a list that are table backups (they hold a table description). */
export async function backedUpTables(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const root = backupLocation(bucket, 'any', prefix).prefix;
  const folders = await commonPrefixes(s3, bucket, root);
  // A folder whose name is no table name (an export's, say) is not a backup.
  const tables = folders
    .map((f) => f.slice(root.length, -1))
    .filter((t) => /^[a-zA-Z0-9_.-]{3,255}$/.test(t));
  const described = await Promise.all(
    tables.map(async (t) => ((await readManifest(s3, backupLocation(bucket, t, prefix))) ? t : undefined)),
  );
  return described.filter((t): t is string => t !== undefined);
}

/** One table's status: its description, last indexed change, gaps, retention horizon, latest pack. */
export async function tableStatus(
  s3: S3Client,
  loc: BackupLocation,
  nowMs: number,
): Promise<TableStatus | undefined> {
  const [manifest, lastChangeMs, gaps, horizon, pack] = await Promise.all([
    readManifest(s3, loc),
    lastIndexedChange(s3, loc),
    listGaps(s3, loc),
    readRetentionHorizon(s3, loc, nowMs),
    openPack(s3, loc, nowMs),
  ]);
  if (!manifest) return undefined;
  return {
    table: loc.table,
    manifest,
    ...(lastChangeMs !== undefined ? { lastChangeMs } : {}),
    gaps,
    horizon,
    ...(pack
      ? { latestPack: { id: pack.id, createdMs: pack.manifest.createdMs, items: pack.manifest.items } }
      : {}),
  };
}

/**
 * The newest change time in the change index: its last hour folder's objects name their spans, so
 * only listings are needed (one per 1,000 hour folders, one for the folder).
 */
export async function lastIndexedChange(s3: S3Client, loc: BackupLocation): Promise<number | undefined> {
  const folders = await commonPrefixes(s3, loc.bucket, indexRoot(loc));
  for (const folder of folders.reverse()) {
    let newest: number | undefined;
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: folder, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        const span = indexObjectSpan(o.Key ?? '');
        if (span && (newest === undefined || span.lastMs > newest)) newest = span.lastMs;
      }
      token = page.NextContinuationToken;
    } while (token);
    if (newest !== undefined) return newest;
  }
  return undefined;
}

async function commonPrefixes(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
    );
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
    token = page.NextContinuationToken;
  } while (token);
  return out;
}
