import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/** One shard's progress: the last record fully written. */
export interface ShardProgress {
  lastSequenceNumber?: string;
  /**
   * That record's change time (or the end of the last trim gap recorded for the shard): where a
   * gap starts if the records after it are trimmed before they are read.
   */
  lastChangeTimeMs?: number;
  closed?: boolean;
}

/** Per-shard progress of the local stream runner: the last sequence number fully written. */
export interface StreamCheckpoint {
  streamArn: string;
  /** The newest change time read so far: where a gap starts if the stream is lost. */
  lastChangeTimeMs?: number;
  shards: Record<string, ShardProgress>;
}

export const loadCheckpoint = (file: string): Promise<StreamCheckpoint | undefined> =>
  loadJson<StreamCheckpoint>(file);

/** Atomic and fsynced: after kill -9 the file holds the old or the new checkpoint, never half. */
export const saveCheckpoint = (file: string, checkpoint: StreamCheckpoint): Promise<void> =>
  saveJson(file, checkpoint);

/** Any small JSON state kept the same durable way (backfill progress). */
export async function loadJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function saveJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(value, null, 2), { fsync: true });
}
