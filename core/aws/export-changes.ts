import type { S3Client } from '@aws-sdk/client-s3';
import { type DataFileEntry, dataFileKey, type FolderDestination } from '../export-manifest';
import { incrementalLine } from '../incremental-export';
import { byPartition } from '../job-parts';
import { hashPrefixOf, type ItemKey } from '../object-key';
import type { Partition } from '../partition';
import { TaskPool } from '../task-pool';
import type { BackupReader } from './backup-reader';
import { type ChangesReport, changedSince } from './changes';
import { folderTarget, openGzipSink } from './export-files';

/** One item changed in the window, as an incremental export task gets it. */
export interface ChangedEntry {
  objectKey: string;
  key: ItemKey;
  lastMs: number;
}

/**
 * The items changed in (sinceMs, atMs], from the change index where it covers (the report says
 * how they were found), split by hash prefix into at most `count` tasks; empty ones dropped.
 */
export async function changedUnits(
  s3: S3Client,
  reader: BackupReader,
  window: { sinceMs: number; atMs: number },
  names: readonly string[],
  count: number,
): Promise<{ units: Array<{ partition: Partition; changes: ChangedEntry[] }>; report: ChangesReport }> {
  const { items, report } = await changedSince(s3, reader, window, names);
  const entries = items.map(({ objectKey, key, lastMs }): ChangedEntry => ({ objectKey, key, lastMs }));
  const units = byPartition(count, entries, (e) => hashPrefixOf(reader.loc, e.objectKey)).map(
    ({ partition, items: changes }) => ({ partition, changes }),
  );
  return { units, report };
}

/**
 * One task's data file of an incremental export: a line per changed item with its image as of
 * `sinceMs` and as of `atMs` (each read alone, 3 requests or so), in key order so a task run
 * again writes the same bytes.
 */
export async function writeChangesFile(
  s3: S3Client,
  reader: BackupReader,
  out: {
    dest: FolderDestination;
    exportId: string;
    partition: Partition;
    changes: readonly ChangedEntry[];
    window: { sinceMs: number; atMs: number };
  },
): Promise<{ items: number; versions: number; files: DataFileEntry[] }> {
  const sorted = [...out.changes].sort((a, b) => (a.objectKey < b.objectKey ? -1 : 1));
  const lines: string[] = new Array(sorted.length).fill('');
  let versions = 0;
  const pool = new TaskPool(Math.max(1, Math.floor(reader.concurrency / 3)));
  for (const [i, c] of sorted.entries()) {
    await pool.submit(async () => {
      const before = await reader.itemAsOf(c.objectKey, out.window.sinceMs);
      const after = await reader.itemAsOf(c.objectKey, out.window.atMs);
      versions += after.versions.length;
      const line = incrementalLine(c.key, c.lastMs, before.image, after.image);
      lines[i] = line ? `${JSON.stringify(line)}\n` : '';
    });
  }
  await pool.drain();
  const written = lines.filter(Boolean);
  if (written.length === 0) return { items: 0, versions, files: [] };
  const key = dataFileKey(out.dest, out.exportId, { hh: out.partition.from });
  const sink = openGzipSink(s3, folderTarget(out.dest, key));
  try {
    for (const line of written) await sink.write(line);
    const file = await sink.close();
    const entry = {
      itemCount: written.length,
      md5Checksum: file.md5Base64,
      etag: file.etag,
      dataFileS3Key: key,
    };
    return { items: written.length, versions, files: [entry] };
  } catch (err) {
    await sink.abort();
    throw err;
  }
}
