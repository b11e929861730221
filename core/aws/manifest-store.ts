import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ConfigurationError, NoBackupError } from '../errors';
import { type BackupLocation, metaRoot } from '../object-key';
import { manifestFromDescription, sameSchema, type TableManifest } from '../table-manifest';
import { readJsonIfExists } from './version-store';

export const manifestKey = (loc: BackupLocation): string => `${metaRoot(loc)}table.json`;

/** The backup's current table description, or undefined if none was recorded yet. */
export const readManifest = (s3: S3Client, loc: BackupLocation): Promise<TableManifest | undefined> =>
  readJsonIfExists<TableManifest>(s3, loc.bucket, manifestKey(loc));

/** The backup's table description; a backup without one is no backup of that table. */
export async function requireManifest(s3: S3Client, loc: BackupLocation): Promise<TableManifest> {
  const manifest = await readManifest(s3, loc);
  if (!manifest) throw new NoBackupError(loc);
  return manifest;
}

export async function writeManifest(
  s3: S3Client,
  loc: BackupLocation,
  manifest: TableManifest,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: manifestKey(loc),
      Body: JSON.stringify(manifest, null, 2),
      ContentType: 'application/json',
    }),
  );
}

/**
 * The table's description with its TTL setting. A failed DescribeTimeToLive fails the whole call
 * (the SDK has already retried it): a manifest without the TTL attribute would make
 * `--create-table` create a table whose items never expire.
 */
export async function describeTable(dynamodb: DynamoDBClient, table: string): Promise<TableManifest> {
  const [desc, ttl] = await Promise.all([
    dynamodb.send(new DescribeTableCommand({ TableName: table })),
    dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table })).catch((err: unknown) => {
      const name = (err as { name?: string }).name ?? 'Error';
      throw new ConfigurationError(
        name === 'AccessDeniedException'
          ? `Cannot read the TTL setting of table ${table} (access denied): grant dynamodb:DescribeTimeToLive on it, so the backup records which attribute expires items`
          : `Cannot read the TTL setting of table ${table} (${name}: ${(err as Error).message?.split('\n')[0] ?? ''}): the table description is not recorded without it; try again`,
        { cause: err },
      );
    }),
  ]);
  if (!desc.Table)
    throw new ConfigurationError(
      `DescribeTable returned no table for ${table}: check --table and AWS_REGION`,
    );
  return manifestFromDescription(desc.Table, ttl.TimeToLiveDescription);
}

/**
 * Records the table's current description in the backup when it is new or changed, keeping the
 * earliest coverage instant. `coverageFromMs` is the instant this call covers from when the
 * backup had none (the oldest change of the batch being written, or a backfill's start).
 */
export async function recordManifest(
  s3: S3Client,
  dynamodb: DynamoDBClient,
  loc: BackupLocation,
  coverageFromMs: number,
): Promise<TableManifest> {
  const [stored, live] = await Promise.all([readManifest(s3, loc), describeTable(dynamodb, loc.table)]);
  const coverage = Math.min(stored?.coverageFromMs ?? coverageFromMs, coverageFromMs);
  const next: TableManifest = { ...live, coverageFromMs: coverage };
  if (!stored || !sameSchema(stored, live) || stored.coverageFromMs !== coverage) {
    await writeManifest(s3, loc, next);
  }
  return next;
}
