import type { S3Client } from '@aws-sdk/client-s3';
import { BackupStateError } from '../errors';
import type { BackupLocation } from '../object-key';
import { assertRetained, type RetentionHorizon } from '../retention';
import type { TableManifest } from '../table-manifest';
import { readRetentionHorizon } from './retention-store';

/** An instant a reader is asked about, with the flag (or event field) that gave it. */
export interface AskedInstant {
  flag: string;
  atMs: number;
}

/**
 * Refuses instants the backup cannot answer exactly: before its coverage starts (when the table
 * description is known), or before the retention horizon the bucket's lifecycle rules leave.
 * Every reader (restore, export, show, history, changes, pack, verify) calls this before reading.
 * Returns the horizon, for readers that must not show what lies before it (history).
 */
export async function assertAnswerable(
  s3: S3Client,
  loc: BackupLocation,
  manifest: TableManifest | undefined,
  instants: readonly AskedInstant[],
  nowMs: number,
): Promise<RetentionHorizon> {
  for (const { flag, atMs } of instants) {
    if (manifest?.coverageFromMs !== undefined && atMs < manifest.coverageFromMs) {
      throw new BackupStateError(
        `The backup of ${loc.table} starts at ${new Date(manifest.coverageFromMs).toISOString()}; ${flag} ${new Date(atMs).toISOString()} is before it: pick a later ${flag} (or backfill earlier state)`,
      );
    }
  }
  const horizon = await readRetentionHorizon(s3, loc, nowMs);
  for (const { flag, atMs } of instants) assertRetained(horizon, flag, atMs, loc);
  return horizon;
}

/** The instants a window question is about: its ends, and now (a backup that keeps nothing refuses). */
export const askedInstants = (
  window: { sinceMs?: number; untilMs?: number },
  nowMs: number,
): AskedInstant[] => [
  ...(window.sinceMs !== undefined ? [{ flag: '--since', atMs: window.sinceMs }] : []),
  ...(window.untilMs !== undefined ? [{ flag: '--until', atMs: window.untilMs }] : []),
  { flag: 'now', atMs: nowMs },
];
