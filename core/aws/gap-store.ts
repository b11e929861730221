import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Gap, gapsTouching, gapWarning } from '../gaps';
import { type BackupLocation, metaRoot } from '../object-key';
import { readJsonIfExists } from './version-store';

const gapsRoot = (loc: BackupLocation) => `${metaRoot(loc)}gaps/`;

const slug = (reason: string) =>
  reason
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60) || 'gap';

/** Records a gap marker (idempotent: the same interval is the same object). */
export async function recordGap(s3: S3Client, loc: BackupLocation, gap: Gap): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: `${gapsRoot(loc)}${gap.fromMs}-${gap.toMs}-${slug(gap.reason)}.json`,
      Body: JSON.stringify(gap),
      ContentType: 'application/json',
    }),
  );
}

/** The warning restore and export give when T falls in a gap of the backup (none otherwise). */
export async function gapWarnings(s3: S3Client, loc: BackupLocation, atMs: number): Promise<string[]> {
  const touched = gapsTouching(await listGaps(s3, loc), atMs);
  return touched.length ? [gapWarning(loc.table, touched)] : [];
}

/** Every gap recorded for a table; interval and reason are in the object key, so none is read. */
export async function listGaps(s3: S3Client, loc: BackupLocation): Promise<Gap[]> {
  const gaps: Gap[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: loc.bucket,
        Prefix: gapsRoot(loc),
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of page.Contents ?? []) {
      const m = /\/(\d+)-(\d+)-([a-z0-9-]+)\.json$/.exec(o.Key ?? '');
      if (m)
        gaps.push({ fromMs: Number(m[1]), toMs: Number(m[2]), reason: (m[3] ?? '').replaceAll('-', ' ') });
    }
    token = page.NextContinuationToken;
  } while (token);
  return gaps;
}

const backfillKey = (loc: BackupLocation) => `${metaRoot(loc)}backfill.json`;
const backfillStartedKey = (loc: BackupLocation) => `${metaRoot(loc)}backfill-started.json`;

/**
 * When a backfill run began (a resume keeps its run's start). Until it completes, a killed page
 * may have left versions its change index lacks: readers that trust the index check this.
 */
export async function recordBackfillStarted(s3: S3Client, loc: BackupLocation, startedAtMs: number) {
  await s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: backfillStartedKey(loc),
      Body: JSON.stringify({ startedAtMs }),
      ContentType: 'application/json',
    }),
  );
}

/** The start of the latest backfill run when it has not completed (a later complete run covers it). */
export async function unfinishedBackfill(s3: S3Client, loc: BackupLocation): Promise<number | undefined> {
  const started = (await readJsonIfExists<{ startedAtMs?: number }>(s3, loc.bucket, backfillStartedKey(loc)))
    ?.startedAtMs;
  if (started === undefined) return undefined;
  const completed = await lastBackfillStart(s3, loc);
  return completed !== undefined && completed >= started ? undefined : started;
}

/** When the last complete backfill finished: gaps before it no longer affect the current state. */
export async function recordBackfillCompleted(
  s3: S3Client,
  loc: BackupLocation,
  startedAtMs: number,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: loc.bucket,
      Key: backfillKey(loc),
      Body: JSON.stringify({ startedAtMs, completedAtMs: Date.now() }),
      ContentType: 'application/json',
    }),
  );
}

export async function lastBackfillStart(s3: S3Client, loc: BackupLocation): Promise<number | undefined> {
  return (await readJsonIfExists<{ startedAtMs?: number }>(s3, loc.bucket, backfillKey(loc)))?.startedAtMs;
}
